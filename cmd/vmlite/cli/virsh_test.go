package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVirshHabits: the virsh names and outputs of a defined, stopped guest,
// and edit with $EDITOR.
func TestVirshHabits(t *testing.T) {
	root := t.TempDir()
	full := filepath.Join(domainTestdata, "valid", "full.xml")
	if _, e, code := runCLI(t, "--root", root, "define", full); code != 0 {
		t.Fatalf("define: %s", e)
	}
	for _, tc := range []struct {
		args []string
		want string // regexp on stdout
	}{
		{[]string{"domstate", "web1"}, `^shut off\n$`},
		{[]string{"domstate", "--reason", "web1"}, `^shut off \(unknown\)\n$`},
		{[]string{"domid", "web1"}, `^-\n$`},
		{[]string{"domuuid", "web1"}, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$`},
		{[]string{"dominfo", "web1"}, `(?s)^Id:\s+-\nName:\s+web1\nUUID:\s+[0-9a-f-]{36}\nOS Type:\s+exe\nState:\s+shut off\nCPU\(s\):\s+\d+\n.*Max memory:\s+\d+ KiB\nUsed memory:\s+\d+ KiB\nPersistent:\s+yes\nAutostart:\s+disable\n`},
		{[]string{"shutdown", "--help"}, `(?s)Shut a guest down gracefully.*--timeout`},
		{[]string{"create", "--help"}, `(?s)Usage:\s+vmlite start`},
	} {
		out, e, code := runCLI(t, append([]string{"--root", root}, tc.args...)...)
		if code != 0 || !regexp.MustCompile(tc.want).MatchString(out) {
			t.Errorf("%v: exit %d\n%s%s\nwant %s", tc.args, code, out, e, tc.want)
		}
	}
	if _, e, code := runCLI(t, "--root", root, "domstate", "nosuch"); code != ExitUser {
		t.Errorf("domstate of an unknown guest: exit %d %s", code, e)
	}

	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", "true")
	if out, e, code := runCLI(t, "--root", root, "edit", "web1"); code != 0 || !strings.Contains(out, "not changed") {
		t.Errorf("edit without a change: exit %d %s%s", code, out, e)
	}
	t.Setenv("EDITOR", "sed -i 's/Web server/Edited by sed/'")
	if out, e, code := runCLI(t, "--root", root, "edit", "web1"); code != 0 || !strings.Contains(out, "edited") {
		t.Fatalf("edit: exit %d %s%s", code, out, e)
	}
	if out, _, _ := runCLI(t, "--root", root, "dumpxml", "web1"); !strings.Contains(out, "<title>Edited by sed</title>") {
		t.Errorf("the edit is not stored:\n%s", out)
	}
	// An invalid edit keeps the old definition and the edited file.
	t.Setenv("EDITOR", "sed -i 's|<init>|<innit>|; s|</init>|</innit>|'")
	_, e, code := runCLI(t, "--root", root, "edit", "web1")
	if code != ExitUser || !strings.Contains(e, "did you mean <init>") || !strings.Contains(e, "unchanged") {
		t.Errorf("invalid edit: exit %d %s", code, e)
	}
	m := regexp.MustCompile(`kept in (\S+\.xml)`).FindStringSubmatch(e)
	if m == nil {
		t.Fatalf("the kept file is not named: %s", e)
	}
	if b, err := os.ReadFile(m[1]); err != nil || !strings.Contains(string(b), "<innit>") {
		t.Errorf("edited file not kept: %v", err)
	}
	os.RemoveAll(filepath.Dir(m[1]))
	if out, _, _ := runCLI(t, "--root", root, "dumpxml", "web1"); !strings.Contains(out, "<title>Edited by sed</title>") || strings.Contains(out, "innit") {
		t.Errorf("the old definition is not kept:\n%s", out)
	}
	// A failing editor changes nothing.
	t.Setenv("EDITOR", "false")
	if _, e, code := runCLI(t, "--root", root, "edit", "web1"); code == 0 || !strings.Contains(e, "unchanged") {
		t.Errorf("failing editor: exit %d %s", code, e)
	}
}
