package enter

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The runtime's fork hooks, as package syscall's forkExec uses them: block
// signals and spoil the stack guard before the fork, reset the signal
// handlers in the child. Go keeps these linknames for gVisor (go.dev/issue/67401).
//
//go:linkname runtimeBeforeFork syscall.runtime_BeforeFork
func runtimeBeforeFork()

//go:linkname runtimeAfterFork syscall.runtime_AfterFork
func runtimeAfterFork()

//go:linkname runtimeAfterForkInChild syscall.runtime_AfterForkInChild
func runtimeAfterForkInChild()

// Steps a forked child reports failing at.
const (
	stepCgroup uint32 = iota + 1
	stepSetns
	stepFork
	stepIDs
	stepBounding
	stepCapset
	stepStatusFD
	stepExec
)

var stepNames = map[uint32]string{
	stepCgroup: "join the guest's cgroup", stepSetns: "enter the guest's namespaces", stepFork: "fork into the guest's pid namespace", stepIDs: "become the guest's root",
	stepBounding: "drop the guest's capabilities from the bounding set", stepCapset: "narrow capabilities to the guest's",
	stepStatusFD: "pass the status pipe on", stepExec: "exec the second stage",
}

// Record kinds on the report pipe.
const (
	recordPID uint32 = iota + 1
	recordError
)

// record is what the forked children write on the report pipe.
type record struct {
	Kind, Step, Value uint32
}

// forkArgs is everything the forked children use, prepared before the
// fork: between fork and exec nothing may allocate or grow the stack.
type forkArgs struct {
	pidfd    uintptr
	nsFlags  uintptr
	report   uintptr // write end of the report pipe, close-on-exec
	memfd    uintptr // the second stage
	statusFD uintptr // inherited by the second stage
	dropMask uint64  // bounding-set capabilities to drop
	capHdr   unix.CapUserHeader
	capData  [2]unix.CapUserData
	argv     **byte // nil-terminated
	envv     **byte
	empty    *byte // ""
	rec      record
	// tasks are the guest's v1 tasks files, which the child writes zero
	// (itself) to and closes; clone3, when set, has the child born in the
	// guest's cgroup2 tree (cgjoin_linux.go).
	tasks  []uintptr
	zero   *byte // "0"
	clone3 *cloneArgs
}

// cloneArgs is struct clone_args (linux/sched.h) up to its cgroup field.
type cloneArgs struct {
	flags, pidFD, childTID, parentTID, exitSignal, stack, stackSize, tls, setTID, setTIDSize, cgroup uint64
}

// errClone3 is forkIn's error when clone3 refused to clone into the
// guest's cgroup2 tree.
var errClone3 = errors.New("clone3 CLONE_INTO_CGROUP")

// setCgroups has the children join j's cgroups (openCgroups): j's files
// must stay open until forkIn returns.
func (a *forkArgs) setCgroups(j *cgroupJoin) {
	a.tasks = j.tasks
	a.zero = &[]byte("0")[0]
	if j.cgroup2 >= 0 {
		a.clone3 = &cloneArgs{flags: unix.CLONE_INTO_CGROUP, exitSignal: uint64(unix.SIGCHLD), cgroup: uint64(j.cgroup2)}
	}
}

// forkIn forks the entering child; it returns the child's pid. The child
// never returns: it reports the grandchild's pid (or its failure) on the
// report pipe and exits.
//
//go:norace
func forkIn(a *forkArgs) (int, error) {
	syscall.ForkLock.Lock()
	pid, errno := rawFork(a)
	syscall.ForkLock.Unlock()
	if errno != 0 && a.clone3 != nil {
		return 0, fmt.Errorf("%w: %w", errClone3, os.NewSyscallError("clone3", errno))
	}
	if errno != 0 {
		return 0, os.NewSyscallError("clone", errno)
	}
	return int(pid), nil
}

// rawFork is fork(2) with the runtime's hooks; the child runs enterChild.
//
//go:nosplit
//go:norace
func rawFork(a *forkArgs) (uintptr, syscall.Errno) {
	runtimeBeforeFork()
	var pid uintptr
	var errno syscall.Errno
	if a.clone3 != nil {
		pid, _, errno = syscall.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(a.clone3)), unsafe.Sizeof(*a.clone3), 0)
	} else {
		pid, _, errno = syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	}
	if errno == 0 && pid == 0 {
		enterChild(a)
	}
	runtimeAfterFork()
	return pid, errno
}

// enterChild runs in the forked child, single-threaded: it enters the
// guest's namespaces and forks the grandchild into its pid namespace, as a
// child of the helper.
//
//go:nosplit
//go:norace
func enterChild(a *forkArgs) {
	runtimeAfterForkInChild()
	// Single-threaded: moving this thread moves the process, and a thread
	// that moves itself takes no threadgroup lock (cgjoin_linux.go).
	for _, fd := range a.tasks {
		if _, _, e := syscall.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(a.zero)), 1); e != 0 {
			childFail(a, stepCgroup, e)
		}
		syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_SETNS, a.pidfd, a.nsFlags, 0); e != 0 {
		childFail(a, stepSetns, e)
	}
	pid, _, e := syscall.RawSyscall6(unix.SYS_CLONE, unix.CLONE_PARENT, 0, 0, 0, 0, 0)
	if e != 0 {
		childFail(a, stepFork, e)
	}
	if pid == 0 {
		secondStage(a)
	}
	a.rec = record{Kind: recordPID, Value: uint32(pid)}
	syscall.RawSyscall(unix.SYS_WRITE, a.report, uintptr(unsafe.Pointer(&a.rec)), unsafe.Sizeof(a.rec))
	syscall.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
}

// secondStage runs in the grandchild, in every namespace of the guest: it
// drops what the guest lacks and execs the second stage from the memfd.
//
//go:nosplit
//go:norace
func secondStage(a *forkArgs) {
	// The namespace's root: in a guest's user namespace the host's uid 0
	// is unmapped, and exec would give it no capabilities there.
	if _, _, e := syscall.RawSyscall(unix.SYS_SETRESGID, 0, 0, 0); e != 0 {
		childFail(a, stepIDs, e)
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_SETRESUID, 0, 0, 0); e != 0 {
		childFail(a, stepIDs, e)
	}
	for c := uintptr(0); c < 64; c++ {
		if a.dropMask&(1<<c) == 0 {
			continue
		}
		_, _, e := syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0, 0, 0, 0)
		if e != 0 && e != unix.EINVAL { // EINVAL: unknown to this kernel
			childFail(a, stepBounding, e)
		}
	}
	syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0)
	if _, _, e := syscall.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&a.capHdr)), uintptr(unsafe.Pointer(&a.capData[0])), 0); e != 0 {
		childFail(a, stepCapset, e)
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_FCNTL, a.statusFD, unix.F_SETFD, 0); e != 0 {
		childFail(a, stepStatusFD, e)
	}
	_, _, e := syscall.RawSyscall6(unix.SYS_EXECVEAT, a.memfd, uintptr(unsafe.Pointer(a.empty)),
		uintptr(unsafe.Pointer(a.argv)), uintptr(unsafe.Pointer(a.envv)), unix.AT_EMPTY_PATH, 0)
	childFail(a, stepExec, e)
}

//go:nosplit
//go:norace
func childFail(a *forkArgs, step uint32, e syscall.Errno) {
	a.rec = record{Kind: recordError, Step: step, Value: uint32(e)}
	syscall.RawSyscall(unix.SYS_WRITE, a.report, uintptr(unsafe.Pointer(&a.rec)), unsafe.Sizeof(a.rec))
	syscall.RawSyscall(unix.SYS_EXIT_GROUP, 125, 0, 0)
}
