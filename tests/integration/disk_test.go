//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiskBlock: <disk type='block' device='disk'> as libvirt's LXC driver
// does it: the host's block device (a loop device the test makes) appears
// as /dev/TARGET in the guest, readable through the cgroup device rule.
func TestDiskBlock(t *testing.T) {
	for _, idmap := range []bool{false, true} {
		t.Run(fmt.Sprintf("idmap=%v", idmap), func(t *testing.T) {
			h := newHarness(t)
			name := h.uniqueName("it-disk")
			xml, _ := h.busybox(name, idmap)
			img := filepath.Join(t.TempDir(), "disk.img")
			if err := os.WriteFile(img, []byte("vmlite-disk-content"+strings.Repeat("\x00", 1<<20)), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("losetup", "--find", "--show", img).Output()
			if err != nil {
				t.Fatalf("losetup: %v", err)
			}
			dev := strings.TrimSpace(string(out))
			defer exec.Command("losetup", "-d", dev).Run()
			b, err := os.ReadFile(xml)
			if err != nil {
				t.Fatal(err)
			}
			roDev, _ := loopDevice(t, "vmlite-readonly")
			disk := fmt.Sprintf("    <disk type='block' device='disk'>\n      <driver name='qemu' type='raw'/>\n      <source dev='%s'/>\n      <target dev='vdb' bus='virtio'/>\n    </disk>\n", dev) +
				fmt.Sprintf("    <disk type='block' device='disk'>\n      <source dev='%s'/>\n      <target dev='vdc'/>\n      <readonly/>\n    </disk>\n  </devices>", roDev)
			doc := strings.Replace(string(b), "</devices>", disk, 1)
			h.must("start", h.writeXML(name, doc))
			h.waitConsole(name, "vmlite-guest: BOOTED "+name)
			if got := h.must("exec", name, "--", "head", "-c", "19", "/dev/vdb").stdout; got != "vmlite-disk-content" {
				t.Errorf("/dev/vdb reads %q", got)
			}
			if r := h.run("exec", name, "--", "stat", "-c", "%F", "/dev/vdb"); !strings.Contains(r.stdout, "block") {
				t.Errorf("/dev/vdb is not a block device: %v", r)
			}
			// <readonly/>: read, never written (the device cgroup allows r).
			if got := h.must("exec", name, "--", "head", "-c", "15", "/dev/vdc").stdout; got != "vmlite-readonly" {
				t.Errorf("/dev/vdc reads %q", got)
			}
			if r := h.run("exec", name, "--", "sh", "-c", "echo x > /dev/vdc"); r.code == 0 {
				t.Errorf("a write to the read-only disk succeeded: %v", r)
			}
			if r := h.run("exec", name, "--", "dd", "if=/dev/zero", "of=/dev/vdb", "bs=1", "count=1", "seek=100", "conv=notrunc"); r.code != 0 {
				t.Errorf("a write to the read-write disk failed: %v", r)
			}
			h.must("destroy", name)
			h.assertGone(name)
		})
	}
}
