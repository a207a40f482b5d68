//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// deviceProgram returns the ids of the BPF device programs attached to
// cgroup v2 directory dir.
func deviceProgram(t *testing.T, dir string) []ebpf.ProgramID {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := link.QueryPrograms(link.QueryOptions{Target: int(f.Fd()), Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		t.Fatal(err)
	}
	var ids []ebpf.ProgramID
	for _, p := range r.Programs {
		ids = append(ids, p.ID)
	}
	return ids
}

// TestAttachDeviceCgroupV2: on a host without the v1 devices controller
// (its hierarchy unmounted in a private mount namespace for the guest's
// supervisor, as DEVELOPERS.md describes; the hybrid unified tree stays),
// attach-device and detach-device replace the guest's BPF device program
// with one that allows the disk, then one that does not: always exactly
// one program, and the guest reads the disk while it is attached.
func TestAttachDeviceCgroupV2(t *testing.T) {
	h := newHarness(t)
	if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.controllers"); err != nil {
		if _, err2 := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err2 != nil {
			t.Skipf("SKIPPED LOUDLY: no cgroup2 tree on this host: %v", err)
		}
	}
	if _, err := os.Stat("/sys/fs/cgroup/devices"); err != nil {
		t.Skipf("SKIPPED LOUDLY: no v1 devices hierarchy to hide: the v2 path is the only one here and TestAttachDeviceLive covers it")
	}
	name := h.uniqueName("it-av2")
	xml, _ := h.busybox(name, true)
	// The start runs in the private namespace: the supervisor it spawns
	// stays there; attach-device and detach-device talk to it by its socket.
	r := runTool(t, nil, "unshare", "-m", "--propagation", "private", "sh", "-c",
		`umount /sys/fs/cgroup/devices && exec "$0" --root "$1" start "$2"`, bin, h.root, xml)
	if r.code != 0 {
		t.Fatalf("start with the v1 devices hierarchy hidden: %v", r)
	}
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	var dir string
	for _, d := range cgroupsOf(h.cgroupLeaf(name)) {
		if strings.Contains(d, "/devices/") {
			t.Fatalf("the guest has a v1 devices cgroup %s: the supervisor did not take the v2 path", d)
		}
		if _, err := os.Stat(filepath.Join(d, "cgroup.controllers")); err == nil {
			dir = d
		}
	}
	if dir == "" {
		t.Fatalf("no cgroup2 directory of the guest")
	}
	before := deviceProgram(t, dir)
	if len(before) != 1 {
		t.Fatalf("device programs at start: %v", before)
	}
	dev, _ := loopDevice(t, "vmlite-v2-disk")
	disk := h.writeXML("v2disk", "<disk type='block'><source dev='"+dev+"'/><target dev='vdq'/></disk>")
	h.must("attach-device", name, disk)
	attached := deviceProgram(t, dir)
	if len(attached) != 1 || attached[0] == before[0] {
		t.Errorf("device programs after attach: %v (before %v): want one new program", attached, before)
	}
	// exec joins the guest's cgroups as this host shows them: in a private
	// namespace too, where there is no v1 devices hierarchy.
	if r := runTool(t, nil, "unshare", "-m", "--propagation", "private", "sh", "-c",
		`umount /sys/fs/cgroup/devices && exec "$0" --root "$1" exec "$2" -- head -c 14 /dev/vdq`, bin, h.root, name); r.code != 0 || r.stdout != "vmlite-v2-disk" {
		t.Errorf("/dev/vdq in the guest: %v", r)
	}
	h.must("detach-device", name, disk)
	detached := deviceProgram(t, dir)
	if len(detached) != 1 || detached[0] == attached[0] {
		t.Errorf("device programs after detach: %v (attached %v): want one new program", detached, attached)
	}
	h.must("destroy", name)
	h.assertGone(name)
}
