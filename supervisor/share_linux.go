package supervisor

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"vmlite/plan"
)

// nsFlags are the clone flags of the namespaces <lxc:namespace> may share.
var nsFlags = map[string]int{"net": unix.CLONE_NEWNET, "ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS}

// sharedCloneFlags drops from flags the namespaces the guest shares.
func sharedCloneFlags(p *plan.Plan, flags uintptr) uintptr {
	for _, sh := range p.Share {
		flags &^= uintptr(nsFlags[sh.Kind])
	}
	return flags
}

// startInShared runs start (the clone of __init) on an OS thread that has
// joined the namespaces the guest shares, so that the clone, which leaves
// those out of its flags, inherits them; the thread goes back to the
// supervisor's own namespaces afterwards. A shared supervisor hosts other
// guests: only this locked thread ever changes namespaces.
func (s *Supervisor) startInShared(start func() error) error {
	if len(s.p.Share) == 0 {
		return start()
	}
	runtime.LockOSThread()
	var restore []func() error
	undo := func() error {
		var err error
		for i := len(restore) - 1; i >= 0; i-- {
			err = errors.Join(err, restore[i]())
		}
		if err == nil {
			runtime.UnlockOSThread()
		}
		// Still in a guest's namespace: the thread stays locked to this
		// goroutine, and the failure is reported, not hidden.
		return err
	}
	for _, sh := range s.p.Share {
		flag := nsFlags[sh.Kind]
		own, err := unix.Open(fmt.Sprintf("/proc/thread-self/ns/%s", sh.Kind), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return errors.Join(&plan.StepFailure{Step: "join shared " + sh.Kind + " namespace", Err: err}, undo())
		}
		target, err := unix.Open(sh.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Close(own)
			return errors.Join(&plan.StepFailure{Step: "join shared " + sh.Kind + " namespace", XMLPath: sh.XMLPath, User: true,
				Err: fmt.Errorf("%w (is the guest or process still running?)", &os.PathError{Op: "open", Path: sh.Path, Err: err})}, undo())
		}
		err = unix.Setns(target, flag)
		unix.Close(target)
		if err != nil {
			unix.Close(own)
			return errors.Join(&plan.StepFailure{Step: "join shared " + sh.Kind + " namespace", XMLPath: sh.XMLPath, User: errors.Is(err, unix.EINVAL),
				Err: fmt.Errorf("%s is not a %s namespace, or cannot be joined: %w", sh.Path, sh.Kind, &os.SyscallError{Syscall: "setns", Err: err})}, undo())
		}
		restore = append(restore, func() error {
			defer unix.Close(own)
			if err := unix.Setns(own, flag); err != nil {
				return fmt.Errorf("return to the supervisor's %s namespace: %w", sh.Kind, err)
			}
			return nil
		})
	}
	err := start()
	return errors.Join(err, undo())
}

// isUserFailure reports whether err is a step failure the user must fix.
func isUserFailure(err error) bool {
	var sf *plan.StepFailure
	return errors.As(err, &sf) && sf.User
}
