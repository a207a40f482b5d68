package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeviceConfig: attach-device and detach-device --config edit the
// stored definition (dumpxml --inactive shows it), and each error names
// its path and changes nothing.
func TestDeviceConfig(t *testing.T) {
	root, dir := t.TempDir(), t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	def := write("g.xml", `<domain type='lxc'><name>devg</name><memory>65536</memory>
  <os><type>exe</type><init>/sbin/init</init></os>
  <devices><filesystem type='mount'><source dir='`+dir+`'/><target dir='/'/></filesystem>
    <interface type='bridge'><source bridge='br-x'/></interface></devices>
</domain>`)
	if _, e, code := runCLI(t, "--root", root, "define", def); code != 0 {
		t.Fatalf("define: %d %s", code, e)
	}
	dump := func() string {
		out, e, code := runCLI(t, "--root", root, "dumpxml", "--inactive", "devg")
		if code != 0 {
			t.Fatalf("dumpxml: %d %s", code, e)
		}
		return out
	}
	before := dump()
	disk := write("disk.xml", `<?xml version="1.0"?>
<disk type='block' device='disk'>
  <source dev='/dev/loop7'/>
  <target dev='vdb'/>
  <readonly/>
</disk>
`)
	fs := write("fs.xml", "<filesystem type='mount'>\n  <source dir='/srv'/>\n  <target dir='/srv'/>\n</filesystem>\n")
	iface := write("if.xml", "<interface type='network'><source network='default'/><mac address='52:54:00:aa:bb:0c'/></interface>")
	for _, f := range []string{disk, fs, iface} {
		if out, e, code := runCLI(t, "--root", root, "attach-device", "devg", f, "--config"); code != 0 || !strings.Contains(out, "attached successfully") {
			t.Fatalf("attach %s: %d %s %s", f, code, out, e)
		}
	}
	got := dump()
	for _, want := range []string{"<source dev=\"/dev/loop7\"", "<target dev=\"vdb\"", "<readonly>", "<target dir=\"/srv\"", "52:54:00:aa:bb:0c"} {
		if !strings.Contains(got, want) {
			t.Errorf("dumpxml after attach lacks %s:\n%s", want, got)
		}
	}
	// Errors: each names the file, line or path, and changes nothing.
	bad := write("bad.xml", "<disk type='block' device='disk'>\n  <source dev='/dev/loop8'/>\n  <target dev='vdc' bus='virtio' bogus='1'/>\n</disk>\n")
	two := write("two.xml", "<disk type='block'><source dev='/dev/a'/><target dev='vdx'/></disk>\n<disk type='block'><source dev='/dev/b'/><target dev='vdy'/></disk>\n")
	gone := write("gone.xml", "<disk type='block'><source dev='/dev/loop9'/><target dev='vdz'/></disk>")
	pci := write("pci.xml", "<hostdev mode='subsys' type='pci'><source><address domain='0' bus='0' slot='2' function='0'/></source></hostdev>")
	unknown := write("unknown.xml", "<frobnicator/>")
	nomac := write("nomac.xml", "<interface type='bridge'><source bridge='br-nope'/></interface>")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"attach-device", "devg", disk, "--config"}, "/domain/devices/disk: the guest has this disk already (target vdb)"},
		{[]string{"attach-device", "devg", bad, "--config"}, "bad.xml:3: /domain/devices/disk/target/@bogus"},
		{[]string{"attach-device", "devg", two, "--config"}, "two.xml:2: /disk: a device file holds one device element"},
		{[]string{"attach-device", "devg", pci, "--config"}, "pci.xml:1: /domain/devices/hostdev/@type: not supported by vmlite: PCI passthrough"},
		{[]string{"attach-device", "devg", unknown, "--config"}, "unknown.xml: /domain/devices/frobnicator: <frobnicator> is not a device"},
		{[]string{"attach-device", "devg", disk, "--live"}, "is not running"},
		{[]string{"attach-device", "devg", disk}, "the guest has this disk already"},
		{[]string{"detach-device", "devg", gone, "--config"}, "gone.xml: /domain/devices/disk/target/@dev: the guest has no disk with target vdz"},
		{[]string{"detach-device", "devg", nomac, "--config"}, "the guest has no interface with bridge br-nope"},
		{[]string{"detach-device", "devg", disk, "--live"}, "is not running"},
		{[]string{"attach-device", "nosuch", disk, "--config"}, "not found"},
		{[]string{"attach-device", "devg", filepath.Join(dir, "missing.xml")}, "read device XML"},
		{[]string{"update-device", "devg", disk, "--config"}, "update-device changes interfaces only"},
		{[]string{"detach-device", "devg", write("noname.xml", "<disk type='block'/>"), "--config"}, "noname.xml:1: /domain/devices/disk/target"},
		{[]string{"attach-device", "devg", write("minattach.xml", "<disk><target dev='vdq'/></disk>"), "--config"}, "/domain/devices/disk"},
	} {
		out, e, code := runCLI(t, append([]string{"--root", root}, tc.args...)...)
		if code != ExitUser || !strings.Contains(e, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q (stdout %q)", tc.args[:2], code, e, tc.want, out)
		}
	}
	if d := dump(); d != got {
		t.Errorf("a refused change changed the definition:\n%s", d)
	}
	// update-device: the interface named by its MAC gets the new source.
	upd := write("upd.xml", "<interface type='bridge'><source bridge='br-new'/><mac address='52:54:00:aa:bb:0c'/></interface>")
	if _, e, code := runCLI(t, "--root", root, "update-device", "devg", upd); code != 0 {
		t.Fatalf("update-device: %d %s", code, e)
	}
	if d := dump(); !strings.Contains(d, `<source bridge="br-new"`) || strings.Contains(d, `network="default"`) {
		t.Errorf("update-device did not replace the interface:\n%s", d)
	}
	// Detach them all again: the definition is the one defined. As in
	// libvirt, what names the device is enough to detach it.
	minimal := write("min.xml", "<disk><target dev='vdb'/></disk>")
	for _, f := range []string{minimal, fs, upd} {
		if _, e, code := runCLI(t, "--root", root, "detach-device", "devg", f, "--config"); code != 0 {
			t.Fatalf("detach %s: %d %s", f, code, e)
		}
	}
	if d := dump(); d != before {
		t.Errorf("attach then detach is not the definition as defined:\n%s\nwant\n%s", d, before)
	}
	// The interface of the definition, named by the MAC dumpxml shows.
	mac := before[strings.Index(before, "<mac address=\"")+len("<mac address=\""):]
	mac = mac[:strings.IndexByte(mac, '"')]
	byMAC := write("bymac.xml", "<interface type='bridge'><mac address='"+mac+"'/></interface>")
	if _, e, code := runCLI(t, "--root", root, "detach-device", "devg", byMAC, "--config"); code != 0 {
		t.Fatalf("detach by MAC %s: %d %s", mac, code, e)
	}
	if d := dump(); strings.Contains(d, "<interface") {
		t.Errorf("interface still there:\n%s", d)
	}
}
