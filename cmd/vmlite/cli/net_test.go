package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const labXML = `<network>
  <name>lab</name>
  <forward mode='nat'/>
  <ip address='198.18.7.1' prefix='24'>
    <dhcp><range start='198.18.7.100' end='198.18.7.199'/></dhcp>
  </ip>
</network>
`

// TestNetDefinitionCommands: define, list, dumpxml, autostart, undefine,
// without starting anything.
func TestNetDefinitionCommands(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(t.TempDir(), "lab.xml")
	if err := os.WriteFile(file, []byte(labXML), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(want int, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, append([]string{"--root", root}, args...)...)
		if code != want {
			t.Fatalf("vmlite %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, out, errOut)
		}
		return out + errOut
	}
	if out := run(0, "net-define", file); !strings.Contains(out, "Network lab defined from "+file) {
		t.Errorf("net-define said %q", out)
	}
	if out := run(0, "net-list"); strings.Contains(out, "lab") {
		t.Errorf("net-list shows the inactive network:\n%s", out)
	}
	out := run(0, "net-list", "--all")
	if !strings.Contains(out, "lab") || !strings.Contains(out, "inactive") || !strings.Contains(out, "vmlbr-lab") ||
		!strings.Contains(out, "198.18.7.1/24") || !strings.Contains(out, "nat") {
		t.Errorf("net-list --all:\n%s", out)
	}
	if out := run(0, "net-list", "--inactive", "--name"); out != "lab\n" {
		t.Errorf("net-list --inactive --name = %q", out)
	}
	xml := run(0, "net-dumpxml", "lab")
	if !strings.Contains(xml, "<uuid>") || !strings.Contains(xml, `<bridge name="vmlbr-lab"`) {
		t.Errorf("net-dumpxml lacks the generated UUID and bridge:\n%s", xml)
	}
	// dumpxml's output defines the same network again.
	again := filepath.Join(t.TempDir(), "again.xml")
	if err := os.WriteFile(again, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	run(0, "net-define", again)
	if run(0, "net-dumpxml", "lab") != xml {
		t.Errorf("redefining with dumpxml's output changed it")
	}
	run(0, "net-autostart", "lab")
	if out := run(0, "net-list", "--all"); !strings.Contains(out, "yes") {
		t.Errorf("net-list does not show autostart:\n%s", out)
	}
	run(0, "net-autostart", "lab", "--disable")
	run(0, "net-undefine", "lab")
	if out := run(0, "net-list", "--all", "--name"); out != "" {
		t.Errorf("net-list after undefine = %q", out)
	}

	// User errors exit 2.
	bad := filepath.Join(t.TempDir(), "bad.xml")
	if err := os.WriteFile(bad, []byte("<network>\n<name>x</name>\n<dns/>\n</network>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run(2, "net-define", bad); !strings.Contains(out, bad+":3: /network/dns: not supported by vmlite") {
		t.Errorf("net-define of bad XML said %q", out)
	}
	run(2, "net-define", filepath.Join(t.TempDir(), "missing.xml"))
	run(2, "net-dumpxml", "nope")
	run(2, "net-undefine", "nope")
	run(2, "net-start", "nope")
	run(2, "net-destroy", "nope")
	run(2, "net-autostart", "nope")
	run(2, "domifaddr", "nope")
}
