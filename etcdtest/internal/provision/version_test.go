package provision

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
	}{
		{"v3.6.16", Version{3, 6, 16}},
		{"3.6.16", Version{3, 6, 16}},
		{"v3.7.3", Version{3, 7, 3}},
		{"v3.6.0-rc.1", Version{3, 6, 0}},
		{"3.4.23-alpha.0", Version{3, 4, 23}},
		{"v10.20.30", Version{10, 20, 30}},
	} {
		got, err := ParseVersion(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseVersionRefusesWhatIsNoRelease(t *testing.T) {
	for _, in := range []string{"", "3.x", "3", "vv3.6.1", "V3.6.1", "3.6.1.2", " 3.6.1", "3.6.1 ", "v3.6.1-", "v3.6.1+meta", "latest", "/usr/bin/etcd"} {
		_, err := ParseVersion(in)
		if err == nil {
			t.Errorf("ParseVersion(%q) succeeded; want an error", in)
			continue
		}
		want := `is not an etcd release: write it like "v3.6.16" or "3.6.16"`
		if !strings.HasPrefix(err.Error(), strconv.Quote(in)) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseVersion(%q) error %q; want it to quote the input and say %q", in, err, want)
		}
	}
}

func TestVersionAtLeastAndString(t *testing.T) {
	for _, tc := range []struct {
		v            Version
		major, minor int
		want         bool
	}{
		{Version{3, 5, 0}, 3, 5, true},
		{Version{3, 4, 99}, 3, 5, false},
		{Version{3, 7, 3}, 3, 5, true},
		{Version{4, 0, 0}, 3, 5, true},
		{Version{2, 9, 0}, 3, 4, false},
		{Version{3, 4, 0}, 3, 4, true},
	} {
		if got := tc.v.AtLeast(tc.major, tc.minor); got != tc.want {
			t.Errorf("%v.AtLeast(%d, %d) = %v; want %v", tc.v, tc.major, tc.minor, got, tc.want)
		}
	}
	if s := (Version{3, 6, 16}).String(); s != "v3.6.16" {
		t.Errorf("String() = %q; want v3.6.16", s)
	}
}

func TestCanonicalVersion(t *testing.T) {
	for in, want := range map[string]string{"3.6.16": "v3.6.16", "v3.6.16": "v3.6.16", "3.6.0-rc.1": "v3.6.0-rc.1", "": ""} {
		if got := canonicalVersion(in); got != want {
			t.Errorf("canonicalVersion(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestAMinorMeansItsNewestPinnedPatch(t *testing.T) {
	for _, in := range []string{"3.7", "v3.7"} {
		got, err := ParseVersion(in)
		if err != nil || got != (Version{3, 7, 3}) {
			t.Errorf("ParseVersion(%q) = %v, %v; want v3.7.3, the pinned patch of 3.7", in, got, err)
		}
		if c := canonicalVersion(in); c != "v3.7.3" {
			t.Errorf("canonicalVersion(%q) = %q; want v3.7.3 (the build and its cache are the full release's)", in, c)
		}
	}
	if c := canonicalVersion("3.7.1"); c != "v3.7.1" {
		t.Errorf("canonicalVersion(3.7.1) = %q; a full release stays itself", c)
	}
}

func TestAMinorWithNoPinnedPatchIsRefusedWithTheFullFormToWrite(t *testing.T) {
	for _, in := range []string{"3.6", "v3.5", "3.8"} {
		_, err := ParseVersion(in)
		if err == nil {
			t.Errorf("ParseVersion(%q) succeeded; no patch of it is pinned", in)
			continue
		}
		major, minor, _ := strings.Cut(strings.TrimPrefix(in, "v"), ".")
		for _, want := range []string{strconv.Quote(in), "names a minor release", "write the full release", `"` + major + "." + minor + `.0"`, `"3.7" is v3.7.3`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParseVersion(%q) error %q; want it to say %s", in, err, want)
			}
		}
	}
}
