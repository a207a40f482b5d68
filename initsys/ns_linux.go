package initsys

import (
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// unshareCgroup enters a new cgroup namespace rooted at the guest's cgroup.
func (g *guest) unshareCgroup() error {
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return stepErr("create cgroup namespace", "", &os.SyscallError{Syscall: "unshare", Err: err})
	}
	return nil
}

// setHostname sets the guest's hostname in its own UTS namespace.
func (g *guest) setHostname() error {
	if err := unix.Sethostname([]byte(g.p.Hostname)); err != nil {
		return stepErr("set hostname "+g.p.Hostname, "/domain/name", &os.SyscallError{Syscall: "sethostname", Err: err})
	}
	return nil
}

// loopbackUp brings lo up in the guest's private network namespace (every
// guest has one; a guest without <interface> has only lo).
func (g *guest) loopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return stepErr("bring up lo", "", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return stepErr("bring up lo", "", err)
	}
	return nil
}
