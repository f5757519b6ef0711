package provision

import (
	"fmt"
	"regexp"
)

// Version is a parsed etcd release number.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v is release major.minor or later.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

var versionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$`)

// ParseVersion reads a release as users write it, "v3.6.16" or "3.6.16",
// with an optional pre-release suffix ("v3.6.0-rc.1"), which it drops.
func ParseVersion(s string) (Version, error) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("%q is not an etcd release: write it like \"v3.6.16\" or \"3.6.16\"", s)
	}
	var v Version
	fmt.Sscan(m[1], &v.Major)
	fmt.Sscan(m[2], &v.Minor)
	fmt.Sscan(m[3], &v.Patch)
	return v, nil
}

// canonicalVersion returns s as "vX.Y.Z[-pre]", the form of etcd's module
// versions and of the cache and pinned file names.
func canonicalVersion(s string) string {
	if s != "" && s[0] != 'v' {
		return "v" + s
	}
	return s
}
