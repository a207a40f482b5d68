package initsys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/plan"
)

func stepFailure(t *testing.T, err error) *plan.StepFailure {
	t.Helper()
	var f *plan.StepFailure
	if !errors.As(err, &f) {
		t.Fatalf("error %T %v is not a plan.StepFailure", err, err)
	}
	return f
}

// TestLookupInit: a missing or non-executable init is the user's error at
// <init>, saying where it was looked for.
func TestLookupInit(t *testing.T) {
	dir := t.TempDir()
	exe, data := filepath.Join(dir, "init"), filepath.Join(dir, "data")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, rootfs, want string
	}{
		{"executable", exe, "/srv/g", ""},
		{"missing, own root", filepath.Join(dir, "nope"), "/srv/g", "not found in the guest's root filesystem /srv/g"},
		{"missing, host's root", filepath.Join(dir, "nope"), "", "not found in the host's root filesystem"},
		{"not executable", data, "/srv/g", "not an executable file"},
		{"a directory", dir, "/srv/g", "not an executable file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &guest{p: &plan.Plan{Init: plan.Init{Path: c.path, XMLPath: "/domain/os/init"}, Rootfs: plan.Rootfs{Path: c.rootfs}}}
			got, err := g.lookupInit()
			if c.want == "" {
				if err != nil || got != c.path {
					t.Fatalf("lookupInit = %q, %v", got, err)
				}
				return
			}
			f := stepFailure(t, err)
			if !f.User || f.XMLPath != "/domain/os/init" || f.Step != "find init" || !strings.Contains(err.Error(), c.want) {
				t.Errorf("lookupInit: %+v (%v), want a user error at /domain/os/init saying %q", f, err, c.want)
			}
		})
	}
}

// TestLookupID reads the guest's passwd and group files by name and number.
func TestLookupID(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, []byte("root:x:0:0::/root:/bin/sh\nweb:x:1000:1001::/home/web:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if uid, gid, err := lookupID(passwd, "web"); err != nil || uid != 1000 || gid != 1001 {
		t.Errorf("lookupID(web) = %d, %d, %v", uid, gid, err)
	}
	if _, _, err := lookupID(passwd, "nobody"); err == nil || !strings.Contains(err.Error(), `"nobody": no such entry in the guest's `+passwd) {
		t.Errorf("lookupID(nobody): %v", err)
	}
}

// TestExecFailure: an init that cannot be executed is a step failure at
// <init>, the user's when the file is missing or not executable; a bad
// <initdir> is the user's at /domain/os/initdir. exec returns only on
// failure, so the test process survives.
func TestExecFailure(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // exec changes directory; t.Chdir restores it
	notExec := filepath.Join(dir, "text")
	if err := os.WriteFile(notExec, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, dir, step, xpath string
	}{
		{"missing", filepath.Join(dir, "nope"), dir, "exec init", "/domain/os/init"},
		{"not executable", notExec, dir, "exec init", "/domain/os/init"},
		{"bad initdir", notExec, filepath.Join(dir, "nodir"), "enter init directory", "/domain/os/initdir"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &guest{p: &plan.Plan{Init: plan.Init{Path: c.path, Dir: c.dir, XMLPath: "/domain/os/init"}}}
			f := stepFailure(t, g.exec(c.path))
			if !f.User || f.Step != c.step || f.XMLPath != c.xpath {
				t.Errorf("exec: %+v, want the user's error at step %q, %s", f, c.step, c.xpath)
			}
		})
	}
}
