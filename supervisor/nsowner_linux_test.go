package supervisor

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSetThreadEUID: the thread that clones a mapped guest's init has the
// guest root's uid as its effective uid, keeps its capabilities, and
// passes no securebits on to the guest; the process's other threads stay
// root.
func TestSetThreadEUID(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED LOUDLY: needs root (setresuid, PR_SET_SECUREBITS)")
	}
	type result struct {
		err        error
		euid, bits uintptr
		effective  uint32
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread's uid is changed
		var r result
		if r.err = setThreadEUID(4242); r.err != nil {
			done <- r
			return
		}
		r.euid, _, _ = unix.RawSyscall(unix.SYS_GETEUID, 0, 0, 0)
		r.bits, _, _ = unix.RawSyscall(unix.SYS_PRCTL, unix.PR_GET_SECUREBITS, 0, 0)
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		r.err = unix.Capget(&hdr, &data[0])
		r.effective = data[0].Effective
		done <- r
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.euid != 4242 {
		t.Errorf("thread's euid %d, want 4242", r.euid)
	}
	if r.bits != 0 {
		t.Errorf("securebits %#x left for the clone, want 0", r.bits)
	}
	for _, c := range []uint{unix.CAP_SYS_ADMIN, unix.CAP_SETUID, unix.CAP_DAC_OVERRIDE} {
		if r.effective&(1<<c) == 0 {
			t.Errorf("capability %d dropped by the uid change (effective %#x)", c, r.effective)
		}
	}
	if euid, _, _ := unix.RawSyscall(unix.SYS_GETEUID, 0, 0, 0); euid != 0 {
		t.Errorf("another thread's euid %d: the change leaked out of its thread", euid)
	}
}
