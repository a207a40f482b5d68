package image

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEntry(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind entryKind
		path string
		bad  string
	}{
		{name: "./", path: ""},
		{name: "/", path: ""},
		{name: "etc/passwd", path: "etc/passwd"},
		{name: "./etc//passwd", path: "etc/passwd"},
		{name: "/etc/passwd", path: "etc/passwd"},
		{name: "etc/.wh.passwd", kind: entryWhiteout, path: "etc/passwd"},
		{name: ".wh.etc", kind: entryWhiteout, path: "etc"},
		{name: "etc/.wh..wh..opq", kind: entryOpaque, path: "etc"},
		{name: "a/b/.wh..wh..opq", kind: entryOpaque, path: "a/b"},
		{name: "../etc/passwd", bad: "leaves"},
		{name: "a/../../b", bad: "leaves"},
		{name: "a/..", bad: "leaves"},
		{name: ".wh..", bad: "whiteout of /"},
		{name: "./.wh.", bad: "whiteout of /"},
		{name: ".wh..wh..opq", bad: "opaque whiteout of /"},
		{name: "a/.wh..wh.x", bad: "whiteout of a whiteout"},
		{name: "a\x00b", bad: "NUL"},
	} {
		e, err := parseEntry(tc.name)
		if tc.bad != "" {
			if err == nil || !errors.Is(err, ErrBadEntry) || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("parseEntry(%q) = %v, want an error with %q", tc.name, err, tc.bad)
			}
			continue
		}
		if err != nil || e.kind != tc.kind || e.Path() != tc.path {
			t.Errorf("parseEntry(%q) = %+v (%q), %v; want kind %d path %q", tc.name, e, e.Path(), err, tc.kind, tc.path)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"busybox", "127.0.0.1:5000/bb:latest", "deb@sha256:00", "a_b-c.d"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "/x", "a..b", "a b", "a'b", strings.Repeat("a", 256)} {
		if CheckName(bad) == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
}

// FuzzParseEntry: whatever the name, an accepted entry stays below the
// root (no "..", no empty or "." component) and a whiteout never targets
// the root.
func FuzzParseEntry(f *testing.F) {
	for _, s := range []string{"./", "etc/passwd", "../x", "a/.wh.b", "a/.wh..wh..opq", ".wh..", "/a//b/./c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		e, err := parseEntry(name)
		if err != nil {
			return
		}
		p := e.Path()
		if p == "" {
			if e.kind != entryPlain {
				t.Fatalf("%q: a whiteout of the root accepted", name)
			}
			return
		}
		for _, c := range strings.Split(p, "/") {
			if c == "" || c == "." || c == ".." {
				t.Fatalf("%q: path %q has component %q", name, p, c)
			}
		}
		if e.kind != entryPlain && strings.HasPrefix(e.Base, whiteoutPrefix) {
			t.Fatalf("%q: whiteout target %q is a whiteout name", name, e.Base)
		}
	})
}
