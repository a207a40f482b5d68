package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUndefineCorrupted: a definition that no longer parses can still be
// undefined, with a warning saying so.
func TestUndefineCorrupted(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "lib", "domains")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, content string }{
		{"truncated", "<domain type='lxc'><name>truncated</na"},
		{"empty", ""},
		{"-old-style", "<domain type='lxc'><name>-old-style</name><os><type>exe</type><init>/sbin/init</init></os></domain>"},
	} {
		f := filepath.Join(dir, tc.name+".xml")
		if err := os.WriteFile(f, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runCLI(t, "--root", root, "undefine", "--", tc.name)
		if code != 0 || !strings.Contains(stderr, "removing it anyway") {
			t.Errorf("undefine %s: exit %d, stderr %q; want 0 and a warning", tc.name, code, stderr)
		}
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("undefine %s left %s", tc.name, f)
		}
	}
	if _, _, code := runCLI(t, "--root", root, "undefine", "nothing"); code != ExitUser {
		t.Errorf("undefine of an unknown guest: exit %d, want %d", code, ExitUser)
	}
}
