//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMappedGuestOwnsItsUserNamespace: a mapped guest's user namespace is
// owned by its root's host uid, so that the kernel charges its per-user
// counts (inotify instances above all: about seven per systemd guest, 128
// per user by default) to that uid, not to host root's with every other
// guest's; vmlite exec still joins it; an unmapped guest stays in the
// host's.
func TestMappedGuestOwnsItsUserNamespace(t *testing.T) {
	h := newHarness(t)
	// Away from the templates' default range, which other guests use.
	target := 6000000 + uint32(os.Getpid()%1000)*65536
	g, u := h.uniqueName("own"), h.uniqueName("own")
	tmp := t.TempDir()
	mapped := h.writeXML(g, h.must("template", "busybox", filepath.Join(tmp, g), "--name", g, "--idmap-target", strconv.Itoa(int(target))).stdout)
	unmapped := h.writeXML(u, h.must("template", "busybox", filepath.Join(tmp, u), "--name", u, "--no-idmap").stdout)
	h.must("start", mapped)
	h.must("start", unmapped)
	pid := h.waitState(g, "running").InitPID
	if owner, err := userNSOwner(pid); err != nil || owner != target {
		t.Errorf("owner of the mapped guest's user namespace: %d (%v), want its root's host uid %d", owner, err, target)
	}
	if got := h.must("exec", g, "--", "id", "-u").stdout; got != "0\n" {
		t.Errorf("id -u in the mapped guest: %q", got)
	}
	upid := h.waitState(u, "running").InitPID
	host, _ := os.Readlink("/proc/self/ns/user")
	if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", upid)); err != nil || ns != host {
		t.Errorf("unmapped guest's user namespace %s (%v), want the host's %s", ns, err, host)
	}
	h.must("stop", g)
	h.must("stop", u)
}

// userNSOwner is the owner uid of process pid's user namespace.
func userNSOwner(pid int) (uint32, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return unix.IoctlGetUint32(int(f.Fd()), unix.NS_GET_OWNER_UID)
}
