package clients

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

type timedAuth struct {
	clientv3.Auth
	t *deadliner
}

func (a timedAuth) Authenticate(ctx context.Context, name, password string) (*clientv3.AuthenticateResponse, error) {
	return call(a.t, ctx, "Authenticate", "", func(ctx context.Context) (*clientv3.AuthenticateResponse, error) {
		return a.Auth.Authenticate(ctx, name, password)
	})
}

func (a timedAuth) AuthEnable(ctx context.Context) (*clientv3.AuthEnableResponse, error) {
	return call(a.t, ctx, "AuthEnable", "", a.Auth.AuthEnable)
}

func (a timedAuth) AuthDisable(ctx context.Context) (*clientv3.AuthDisableResponse, error) {
	return call(a.t, ctx, "AuthDisable", "", a.Auth.AuthDisable)
}

func (a timedAuth) AuthStatus(ctx context.Context) (*clientv3.AuthStatusResponse, error) {
	return call(a.t, ctx, "AuthStatus", "", a.Auth.AuthStatus)
}

func (a timedAuth) UserAdd(ctx context.Context, name, password string) (*clientv3.AuthUserAddResponse, error) {
	return call(a.t, ctx, "UserAdd", "", func(ctx context.Context) (*clientv3.AuthUserAddResponse, error) {
		return a.Auth.UserAdd(ctx, name, password)
	})
}

func (a timedAuth) UserAddWithOptions(ctx context.Context, name, password string, opt *clientv3.UserAddOptions) (*clientv3.AuthUserAddResponse, error) {
	return call(a.t, ctx, "UserAddWithOptions", "", func(ctx context.Context) (*clientv3.AuthUserAddResponse, error) {
		return a.Auth.UserAddWithOptions(ctx, name, password, opt)
	})
}

func (a timedAuth) UserDelete(ctx context.Context, name string) (*clientv3.AuthUserDeleteResponse, error) {
	return call(a.t, ctx, "UserDelete", "", func(ctx context.Context) (*clientv3.AuthUserDeleteResponse, error) {
		return a.Auth.UserDelete(ctx, name)
	})
}

func (a timedAuth) UserChangePassword(ctx context.Context, name, password string) (*clientv3.AuthUserChangePasswordResponse, error) {
	return call(a.t, ctx, "UserChangePassword", "", func(ctx context.Context) (*clientv3.AuthUserChangePasswordResponse, error) {
		return a.Auth.UserChangePassword(ctx, name, password)
	})
}

func (a timedAuth) UserGrantRole(ctx context.Context, user, role string) (*clientv3.AuthUserGrantRoleResponse, error) {
	return call(a.t, ctx, "UserGrantRole", "", func(ctx context.Context) (*clientv3.AuthUserGrantRoleResponse, error) {
		return a.Auth.UserGrantRole(ctx, user, role)
	})
}

func (a timedAuth) UserGet(ctx context.Context, name string) (*clientv3.AuthUserGetResponse, error) {
	return call(a.t, ctx, "UserGet", "", func(ctx context.Context) (*clientv3.AuthUserGetResponse, error) { return a.Auth.UserGet(ctx, name) })
}

func (a timedAuth) UserList(ctx context.Context) (*clientv3.AuthUserListResponse, error) {
	return call(a.t, ctx, "UserList", "", a.Auth.UserList)
}

func (a timedAuth) UserRevokeRole(ctx context.Context, name, role string) (*clientv3.AuthUserRevokeRoleResponse, error) {
	return call(a.t, ctx, "UserRevokeRole", "", func(ctx context.Context) (*clientv3.AuthUserRevokeRoleResponse, error) {
		return a.Auth.UserRevokeRole(ctx, name, role)
	})
}

func (a timedAuth) RoleAdd(ctx context.Context, name string) (*clientv3.AuthRoleAddResponse, error) {
	return call(a.t, ctx, "RoleAdd", "", func(ctx context.Context) (*clientv3.AuthRoleAddResponse, error) { return a.Auth.RoleAdd(ctx, name) })
}

func (a timedAuth) RoleGrantPermission(ctx context.Context, name, key, rangeEnd string, permType clientv3.PermissionType) (*clientv3.AuthRoleGrantPermissionResponse, error) {
	return call(a.t, ctx, "RoleGrantPermission", "", func(ctx context.Context) (*clientv3.AuthRoleGrantPermissionResponse, error) {
		return a.Auth.RoleGrantPermission(ctx, name, key, rangeEnd, permType)
	})
}

func (a timedAuth) RoleGet(ctx context.Context, role string) (*clientv3.AuthRoleGetResponse, error) {
	return call(a.t, ctx, "RoleGet", "", func(ctx context.Context) (*clientv3.AuthRoleGetResponse, error) { return a.Auth.RoleGet(ctx, role) })
}

func (a timedAuth) RoleList(ctx context.Context) (*clientv3.AuthRoleListResponse, error) {
	return call(a.t, ctx, "RoleList", "", a.Auth.RoleList)
}

func (a timedAuth) RoleRevokePermission(ctx context.Context, role, key, rangeEnd string) (*clientv3.AuthRoleRevokePermissionResponse, error) {
	return call(a.t, ctx, "RoleRevokePermission", "", func(ctx context.Context) (*clientv3.AuthRoleRevokePermissionResponse, error) {
		return a.Auth.RoleRevokePermission(ctx, role, key, rangeEnd)
	})
}

func (a timedAuth) RoleDelete(ctx context.Context, role string) (*clientv3.AuthRoleDeleteResponse, error) {
	return call(a.t, ctx, "RoleDelete", "", func(ctx context.Context) (*clientv3.AuthRoleDeleteResponse, error) {
		return a.Auth.RoleDelete(ctx, role)
	})
}
