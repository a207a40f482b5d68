package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Run(args, strings.NewReader(""), &o, &e)
	return o.String(), e.String(), code
}

func TestTemplateBusyboxCLI(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("SKIPPED LOUDLY: needs busybox-static (/bin/busybox): run scripts/install-deps.sh")
	}
	root := t.TempDir()
	dir := filepath.Join(t.TempDir(), "bb1")
	out, errOut, code := runCLI(t, "--root", root, "template", "busybox", dir, "--memory", "128M")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var d libvirtxml.Domain
	if err := d.Unmarshal(out); err != nil {
		t.Fatalf("stdout is not domain XML: %v\n%s", err, out)
	}
	if d.Name != "bb1" || d.Memory.Value != 128<<10 || d.IDMap == nil || d.Devices.Filesystems[0].Source.Mount.Dir != dir {
		t.Errorf("unexpected XML:\n%s", out)
	}
	if _, err := os.Readlink(filepath.Join(dir, "sbin/init")); err != nil {
		t.Errorf("tree not built: %v", err)
	}

	// --output, --name, --no-idmap, --force on the same tree.
	xmlFile := filepath.Join(t.TempDir(), "g.xml")
	out, errOut, code = runCLI(t, "template", "busybox", dir, "--force", "--no-idmap", "--name", "other", "-o", xmlFile)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, errOut)
	}
	b, err := os.ReadFile(xmlFile)
	if err != nil {
		t.Fatal(err)
	}
	var d2 libvirtxml.Domain
	if err := d2.Unmarshal(string(b)); err != nil {
		t.Fatal(err)
	}
	if d2.Name != "other" || d2.IDMap != nil {
		t.Errorf("--name/--no-idmap not applied:\n%s", b)
	}
}

func TestTemplateUserErrors(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no template", []string{"template"}, "name a template"},
		{"unknown template", []string{"template", "alpine", "/tmp/x"}, `unknown template "alpine"`},
		{"no dir", []string{"template", "busybox"}, "accepts 1 arg"},
		{"bad memory", []string{"template", "busybox", filepath.Join(t.TempDir(), "g"), "--memory", "lots"}, "--memory"},
		{"bad name", []string{"template", "busybox", filepath.Join(t.TempDir(), "g"), "--name", "a/b"}, "guest name"},
		{"debian both passwords", []string{"template", "debian", filepath.Join(t.TempDir(), "g"), "--root-password", "x", "--no-root-password"}, "choose one"},
		{"debian password and file", []string{"template", "debian", filepath.Join(t.TempDir(), "g"), "--root-password", "x", "--root-password-file", "/etc/hostname"}, "choose one"},
		{"debian missing password file", []string{"template", "debian", filepath.Join(t.TempDir(), "g"), "--root-password-file", "/nonexistent/pw"}, "--root-password-file"},
		{"debian bad suite", []string{"template", "debian", filepath.Join(t.TempDir(), "g"), "--suite", "Book worm"}, "not a Debian release"},
		{"debian bad package", []string{"template", "debian", filepath.Join(t.TempDir(), "g"), "--include", "curl,No;pe"}, "not a Debian package"},
		{"debian bad memory", []string{"template", "debian", filepath.Join(t.TempDir(), "g"), "--memory", "1MB"}, "--memory"},
	}
	if _, err := os.Stat("/bin/busybox"); err == nil {
		tests = append(tests, struct {
			name string
			args []string
			want string
		}{"dir not empty", []string{"template", "busybox", full}, "not empty"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, tc.args...)
			if code != ExitUser || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(full, "etc")); err == nil {
		t.Errorf("a refused build wrote into the directory")
	}
}
