package supervisor

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// A mapped guest's user namespace is owned by the host uid of the guest's
// root, not by host root. The kernel charges per-user counts level by
// level up a user namespace's ancestry, at each level to the namespace's
// owner (kernel/ucount.c, inc_ucount): owned by root, every mapped guest's
// inotify instances counted against host root's
// fs.inotify.max_user_instances, with every unmapped guest's and the
// host's own, and every systemd guest holds several (docs/limits.md).
// Owned by its root's uid, each guest has that limit (and
// max_user_watches, max_user_namespaces, ...) to itself, as it would with
// rootless tools. That uid is the guest's own: a host process running as
// it would have the guest's capabilities, which its files on the host
// (an upper layer, a shifted tree) give it already. A pre-forked stage
// (stages_linux.go) is cloned before its guest is known: a mapped guest
// takes none (poolable).

// secbitNoSetuidFixup is SECBIT_NO_SETUID_FIXUP (linux/securebits.h): an
// effective uid change keeps the thread's capabilities.
const secbitNoSetuidFixup = 1 << 2

// startAsOwner runs start (the clone of a mapped guest's __init, which
// creates its user namespace) on an OS thread whose effective uid is
// owner, with its capabilities kept: the namespace's owner is the
// cloning thread's effective uid. Credentials are per thread in the
// kernel; the thread is never given back to the Go runtime (it ends with
// the goroutine), and threads the runtime makes meanwhile are cloned from
// a clean one (a locked thread's state is never copied).
func startAsOwner(owner uint32, start func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked
		if err := setThreadEUID(owner); err != nil {
			done <- err
			return
		}
		done <- start()
	}()
	return <-done
}

// setThreadEUID sets this thread's effective uid (and so its fsuid),
// keeping its capabilities. The keep bit is cleared again before the
// clone: securebits are inherited, and a guest must drop its
// capabilities on its own setuid calls as usual. A raw setresuid: Go's
// wrappers of it act on every thread of the process.
func setThreadEUID(uid uint32) error {
	if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SECUREBITS, secbitNoSetuidFixup, 0, 0, 0, 0); e != 0 {
		return os.NewSyscallError("prctl(PR_SET_SECUREBITS)", e)
	}
	// ruid and suid stay 0; -1 leaves them.
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, ^uintptr(0), uintptr(uid), ^uintptr(0)); e != 0 {
		return os.NewSyscallError("setresuid", e)
	}
	if _, _, e := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_SECUREBITS, 0, 0, 0, 0, 0); e != 0 {
		return os.NewSyscallError("prctl(PR_SET_SECUREBITS)", e)
	}
	return nil
}
