package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/domain"
	"vmlite/internal/testutil"
	"vmlite/state"
)

const domainTestdata = "../../../domain/testdata"

func TestValidateCmd(t *testing.T) {
	valid := filepath.Join(domainTestdata, "valid", "full.xml")
	bad := filepath.Join(domainTestdata, "invalid", "bad-ip.xml")
	out, errOut, code := runCLI(t, "validate", valid)
	if code != 0 || !strings.Contains(out, "full.xml: valid (guest web1)") || errOut != "" {
		t.Errorf("valid: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := runCLI(t, "validate", t.TempDir()); code != ExitUser || !strings.Contains(errOut, "is a directory") {
		t.Errorf("directory: exit %d %s", code, errOut)
	}
	out, errOut, code = runCLI(t, "validate", valid, bad, "/nonexistent.xml")
	if code != ExitUser {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{
		`bad-ip.xml:13: /domain/devices/interface[2]/ip/@address: not an IP address (got "10.0.0.300")`,
		"/nonexistent.xml: not found",
		"2 of 3 files are not valid",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "valid (guest web1)") {
		t.Errorf("stdout: %s", out)
	}
	// Warnings, from standard input.
	b, err := os.ReadFile(filepath.Join(testutil.LibvirtData(t), "lxcxml2xmldata", "lxc-systemd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var o, e strings.Builder
	code = Run([]string{"validate", "-"}, strings.NewReader(string(b)), &o, &e)
	if code != 0 || !strings.Contains(e.String(), "warning: <stdin>:18: /domain/devices/emulator: ignored") {
		t.Errorf("stdin: exit %d\n%s", code, e.String())
	}
}

func TestDefineDumpUndefine(t *testing.T) {
	root := t.TempDir()
	l := state.NewLayout(root)
	full := filepath.Join(domainTestdata, "valid", "full.xml")
	out, errOut, code := runCLI(t, "--root", root, "define", full)
	if code != 0 || !strings.Contains(out, "Domain 'web1' defined") {
		t.Fatalf("define: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = runCLI(t, "--root", root, "dumpxml", "web1")
	if code != 0 {
		t.Fatalf("dumpxml: exit %d", code)
	}
	d, _, err := domain.Parse("dumped", []byte(out))
	if err != nil || d.XML.Name != "web1" || d.Meta.PidsMax != 512 {
		t.Fatalf("dumped XML: %v\n%s", err, out)
	}

	// The same uuid under another name is refused.
	other := strings.Replace(out, "<name>web1</name>", "<name>web2</name>", 1)
	f := filepath.Join(t.TempDir(), "web2.xml")
	if err := os.WriteFile(f, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, "--root", root, "define", f); code != ExitUser || !strings.Contains(errOut, "already exists") {
		t.Errorf("duplicate uuid: exit %d %s", code, errOut)
	}
	// An invalid file stores nothing and says why.
	if _, errOut, code := runCLI(t, "--root", root, "define", filepath.Join(domainTestdata, "invalid", "missing-init.xml")); code != ExitUser || !strings.Contains(errOut, "init binary must be specified") {
		t.Errorf("invalid define: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(l.DomainFile("noinit")); err == nil {
		t.Error("invalid definition stored")
	}

	// A running guest's live XML wins unless --inactive.
	if err := os.MkdirAll(l.RunDir("web1"), 0o755); err != nil {
		t.Fatal(err)
	}
	live := strings.Replace(out, "<title>Web server</title>", "<title>live</title>", 1)
	if err := os.WriteFile(l.LiveXML("web1"), []byte(live), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := runCLI(t, "--root", root, "dumpxml", "web1"); !strings.Contains(out, "<title>live</title>") || !strings.Contains(out, `<target type="lxc" port="0">`) {
		t.Errorf("dumpxml of a running guest is not its live XML, normalised: %q", out)
	}
	if out, _, _ := runCLI(t, "--root", root, "dumpxml", "--inactive", "web1"); !strings.Contains(out, "<vmlite:pids max=\"512\"/>") {
		t.Errorf("dumpxml --inactive: %q", out)
	}

	// undefine refuses while the supervisor holds the lock.
	lock, err := state.TryLock(l.LockFile("web1"))
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, "--root", root, "undefine", "web1")
	lock.Close()
	if code != ExitUser || !strings.Contains(errOut, "stop it first") {
		t.Errorf("undefine running: exit %d %s", code, errOut)
	}
	if err := os.MkdirAll(filepath.Dir(l.AutostartFile("web1")), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.AutostartFile("web1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runCLI(t, "--root", root, "undefine", "web1"); code != 0 || !strings.Contains(out, "undefined") {
		t.Errorf("undefine: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(l.AutostartFile("web1")); err == nil {
		t.Error("autostart mark left behind")
	}
	if _, errOut, code := runCLI(t, "--root", root, "undefine", "web1"); code != ExitUser || !strings.Contains(errOut, "not found") {
		t.Errorf("second undefine: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "--root", root, "dumpxml", "--inactive", "web1"); code != ExitUser || !strings.Contains(errOut, "transient") {
		t.Errorf("dumpxml --inactive of a transient guest: exit %d %s", code, errOut)
	}
	if _, _, code := runCLI(t, "--root", root, "dumpxml", "../x"); code != ExitUser {
		t.Errorf("dumpxml ../x: exit %d", code)
	}
}

func TestImportLXCCmd(t *testing.T) {
	dir := filepath.Join(testutil.LibvirtData(t), "lxcconf2xmldata")
	simple := filepath.Join(dir, "lxcconf2xml-simple-v3.config")
	if _, err := os.Stat(simple); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "import-lxc", simple)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	d, _, err := domain.Parse("imported", []byte(out))
	if err != nil || d.XML.Name != "migrate_test" {
		t.Fatalf("imported XML: %v\n%s", err, out)
	}
	if !strings.Contains(errOut, "lxc.cgroup.devices.allow: not converted") {
		t.Errorf("warnings: %s", errOut)
	}
	// Parts vmlite refuses are announced.
	_, errOut, code = runCLI(t, "import-lxc", filepath.Join(dir, "lxcconf2xml-cpusettune.config"))
	if code != 0 || !strings.Contains(errOut, "/domain/numatune: not supported by vmlite") {
		t.Errorf("cpusettune: exit %d %s", code, errOut)
	}
	o := filepath.Join(t.TempDir(), "out.xml")
	if _, errOut, code := runCLI(t, "import-lxc", "-o", o, simple); code != 0 {
		t.Errorf("-o: exit %d %s", code, errOut)
	} else if b, _ := os.ReadFile(o); !strings.Contains(string(b), "<name>migrate_test</name>") {
		t.Errorf("-o wrote %q", b)
	}
	_, errOut, code = runCLI(t, "import-lxc", filepath.Join(dir, "lxcconf2xml-fstab.config"))
	if code != ExitUser || !strings.Contains(errOut, "lxcconf2xml-fstab.config:11: lxc.mount: an fstab file") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("fstab: exit %d %q", code, errOut)
	}
}
