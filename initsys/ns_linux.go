package initsys

import (
	"os"

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
	if g.p.Shares("uts") {
		return nil // the host name is the other guest's (<lxc:shareuts>)
	}
	if err := unix.Sethostname([]byte(g.p.Hostname)); err != nil {
		return stepErr("set hostname "+g.p.Hostname, "/domain/name", &os.SyscallError{Syscall: "sethostname", Err: err})
	}
	return nil
}

// loopbackUp brings lo up in the guest's private network namespace (every
// guest has one; a guest without <interface> has only lo).
func (g *guest) loopbackUp() error {
	if g.p.Shares("net") || g.warm.loUp {
		return nil // the namespace and its lo are another's (<lxc:sharenet>), or lo is up already (MsgWarm)
	}
	if err := bringLoUp(); err != nil {
		return stepErr("bring up lo", "", err)
	}
	return nil
}

// bringLoUp sets lo up in the caller's network namespace.
func bringLoUp() error {
	// Two ioctls on a datagram socket, not netlink: the netlink package
	// builds a handle and dumps the link, a visible share of an __init
	// start (bench/README.md).
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return &os.SyscallError{Syscall: "socket", Err: err}
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return &os.SyscallError{Syscall: "ioctl SIOCGIFFLAGS", Err: err}
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return &os.SyscallError{Syscall: "ioctl SIOCSIFFLAGS", Err: err}
	}
	return nil
}
