package provision

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
)

// Version is a parsed etcd release number.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v is release major.minor or later.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

var versionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$`)

var minorRE = regexp.MustCompile(`^v?(\d+)\.(\d+)$`)

// ParseVersion reads a release as users write it, "v3.6.16" or "3.6.16",
// with an optional pre-release suffix ("v3.6.0-rc.1"), which it drops. A
// minor alone ("3.7"), as matchers.HaveClusterVersion takes it, means its
// newest pinned patch (v3.7.3); a minor with no pinned patch is refused
// with the full form to write instead.
func ParseVersion(s string) (Version, error) {
	if m := minorRE.FindStringSubmatch(s); m != nil {
		var major, minor int
		fmt.Sscan(m[1], &major)
		fmt.Sscan(m[2], &minor)
		if v, ok := newestPinned(major, minor); ok {
			return v, nil
		}
		return Version{}, fmt.Errorf("%q names a minor release, and no patch of it is pinned here (a minor alone means its newest pinned patch: %q is %s): write the full release, like \"%d.%d.0\" or the patch you want", s, "3.7", mustPinned(3, 7), major, minor)
	}
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
	if v, err := ParseVersion(s); err == nil && minorRE.MatchString(s) {
		return v.String()
	}
	if s != "" && s[0] != 'v' {
		return "v" + s
	}
	return s
}

// newestPinned returns the newest release of major.minor whose go.mod and
// go.sum are pinned (pinned/vX.Y.Z.go.mod).
func newestPinned(major, minor int) (Version, bool) {
	var best Version
	found := false
	entries, _ := fs.ReadDir(pinned, "pinned")
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".go.mod")
		if !ok || !versionRE.MatchString(name) || strings.Contains(name, "-") {
			continue // another tool's (etcdutl-v3.7.3) or a pre-release
		}
		var v Version
		fmt.Sscanf(name, "v%d.%d.%d", &v.Major, &v.Minor, &v.Patch)
		if v.Major == major && v.Minor == minor && (!found || v.Patch > best.Patch) {
			best, found = v, true
		}
	}
	return best, found
}

// mustPinned is newestPinned for the example an error gives.
func mustPinned(major, minor int) string {
	if v, ok := newestPinned(major, minor); ok {
		return v.String()
	}
	return DefaultVersion
}
