package etcdtest

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// enableAuth turns etcd's authentication on (Config.Auth) once the cluster
// is ready — readiness is checked by anonymous clients, before there is a
// user — then replaces every client of the cluster by one that logs in as
// root.
func (l *local) enableAuth(ctx context.Context) error {
	if l.sec.user == "" {
		return nil
	}
	fail := func(step string, err error) error {
		return fmt.Errorf("etcdtest: enable auth (Config.Auth): %s: %w", step, err)
	}
	cl := l.client
	if _, err := cl.RoleAdd(ctx, "root"); err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
		return fail("add role root", err)
	}
	if _, err := cl.UserAdd(ctx, l.sec.user, l.sec.password); err != nil {
		return fail("add user root", err)
	}
	if _, err := cl.UserGrantRole(ctx, l.sec.user, "root"); err != nil {
		return fail("grant role root to user root", err)
	}
	if _, err := cl.AuthEnable(ctx); err != nil {
		return fail("auth enable", err)
	}
	// Each login is a raft round trip; connect logs in at once.
	if err := l.connect(credentials); err != nil {
		return fail("log in as root", err)
	}
	return nil
}
