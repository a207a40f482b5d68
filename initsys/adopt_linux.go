package initsys

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"vmlite/plan"
)

// highFD is where received console fds wait before they move to their
// fixed numbers, above anything the stage holds (0-3 and the runtime's).
const highFD = 100

// adopt makes a pre-forked stage the guest's (plan/sync.go, MsgAdopt):
// the consoles become its stdio, fds 4+i and its controlling terminal;
// a mapped guest's stage becomes the guest's root; then the stage gets
// the mount namespace a clone would have given it, copied now, so that
// mounts the host made while it waited are there. Every change is on
// this thread (locked in init), the one that execs the guest's init.
func adopt(m plan.Message, fds []int) error {
	if m.Consoles < 1 || len(fds) != m.Consoles {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return stepErr("adopt stage", "", fmt.Errorf("%d console fds for %d consoles", len(fds), m.Consoles))
	}
	// The supervisor lives on as the guest's: its death no longer kills us
	// (a guest outlives a killed supervisor, as a cloned one does).
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0); err != nil {
		return stepErr("adopt stage", "", os.NewSyscallError("prctl PR_SET_PDEATHSIG", err))
	}
	if err := placeConsoles(fds); err != nil {
		return stepErr("attach consoles", "", err)
	}
	// A session of its own since the clone (setsid); console 0 becomes its
	// controlling terminal, as Setctty does for a cloned __init.
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 1); err != nil {
		return stepErr("attach consoles", "", os.NewSyscallError("ioctl TIOCSCTTY", err))
	}
	if m.Mapped {
		if err := becomeGuestRoot(); err != nil {
			return stepErr("become the guest's root", "/domain/idmap", err)
		}
	}
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return stepErr("create mount namespace", "", os.NewSyscallError("unshare", err))
	}
	return nil
}

// placeConsoles moves the received console slaves to 0, 1, 2 (console 0)
// and plan.InitConsoleFD(i), where a cloned __init has them.
func placeConsoles(fds []int) error {
	high := make([]int, len(fds))
	for i, fd := range fds {
		h, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, highFD)
		unix.Close(fd)
		if err != nil {
			return os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", err)
		}
		high[i] = h
	}
	defer func() {
		for _, h := range high {
			unix.Close(h)
		}
	}()
	for _, to := range []int{0, 1, 2} {
		if err := unix.Dup3(high[0], to, 0); err != nil {
			return os.NewSyscallError("dup3", err)
		}
	}
	for i, h := range high {
		if err := unix.Dup3(h, plan.InitConsoleFD(i), 0); err != nil {
			return os.NewSyscallError("dup3", err)
		}
	}
	return nil
}

// becomeGuestRoot switches a mapped stage to the guest's root once the
// supervisor has written its maps. The stage was cloned into its user
// namespace before the maps existed, so it exec'd vmlite-init as an
// unmapped user and kept its capabilities only as ambient ones (the clone
// raised them all); setresuid to 0 then makes them effective again. The
// inheritable and ambient sets are cleared after: a root init never gets
// capabilities the bounding set no longer allows through them.
func becomeGuestRoot() error {
	if err := unix.Setgroups(nil); err != nil {
		return os.NewSyscallError("setgroups", err)
	}
	if err := unix.Setresgid(0, 0, 0); err != nil {
		return os.NewSyscallError("setresgid", err)
	}
	if err := unix.Setresuid(0, 0, 0); err != nil {
		return os.NewSyscallError("setresuid", err)
	}
	return clearInheritable()
}

// clearInheritable empties the thread's inheritable capabilities, which
// empties the ambient set with them.
func clearInheritable() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return os.NewSyscallError("capget", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return os.NewSyscallError("capset", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl PR_CAP_AMBIENT_CLEAR_ALL", err)
	}
	return nil
}
