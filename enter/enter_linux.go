package enter

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"vmlite/internal/caps"
)

// Main is the __exec role, on the host: it returns the command's exit
// status (128+N for a signal N), or 125 when it could not start it.
func Main() int {
	status := os.NewFile(StatusFD, "status")
	syscall.CloseOnExec(StatusFD)
	var c Config
	if err := json.Unmarshal([]byte(os.Getenv(envConfig)), &c); err != nil {
		return report(status, fmt.Errorf("bad helper configuration: %w", err))
	}
	code, err := run(&c)
	if err != nil {
		return report(status, err)
	}
	return code
}

// report writes a set-up error on the status pipe (stderr without one).
func report(status *os.File, err error) int {
	kind := "error"
	var ue *userError
	if errors.As(err, &ue) {
		kind = "user"
	}
	if _, werr := fmt.Fprintf(status, "%s: %v\n", kind, err); werr != nil {
		fmt.Fprintf(os.Stderr, "vmlite exec: %v\n", err)
	}
	return 125
}

// userError marks the user's errors (an unknown --user).
type userError struct{ err error }

func (e *userError) Error() string { return e.err.Error() }
func (e *userError) Unwrap() error { return e.err }

func userErrorf(format string, args ...any) error {
	return &userError{fmt.Errorf(format, args...)}
}

func run(c *Config) (int, error) {
	cg, err := openCgroups(c.CgroupProcs)
	if err != nil {
		return 0, fmt.Errorf("join the guest's cgroup: %w", err)
	}
	defer cg.close()
	if err := joinByPid(cg.fallback); err != nil {
		return 0, fmt.Errorf("join the guest's cgroup: %w", err)
	}
	pidfd, err := unix.PidfdOpen(c.InitPID, 0)
	if err != nil {
		return 0, fmt.Errorf("open the guest's init (pid %d): %w", c.InitPID, os.NewSyscallError("pidfd_open", err))
	}
	defer unix.Close(pidfd)
	// The pidfd pins a process; its start time says it is the guest's init
	// and not a later process that got the same pid.
	if c.InitStart != 0 {
		if start, err := procStart(c.InitPID); err != nil || start != c.InitStart {
			return 0, fmt.Errorf("the guest's init (pid %d) is gone (start time %d, want %d: %v)", c.InitPID, start, c.InitStart, err)
		}
	}
	mem, err := sealedSelf()
	if err != nil {
		return 0, err
	}
	defer mem.Close()
	a, err := prepare(c, pidfd, int(mem.Fd()))
	if err != nil {
		return 0, err
	}
	a.setCgroups(cg)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return 0, os.NewSyscallError("pipe2", err)
	}
	a.report = uintptr(p[1])
	// Signals are caught before the fork (the children reset them to the
	// default), so that none ends the helper without the command.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	child, err := forkIn(a)
	if errors.Is(err, errClone3) {
		// A kernel or cgroup that refuses CLONE_INTO_CGROUP: the helper
		// joins that tree by pid, and the child is born there with it.
		a.clone3 = nil
		if err = joinByPid([]string{cg.procs2}); err != nil {
			err = fmt.Errorf("join the guest's cgroup: %w", err)
		} else {
			child, err = forkIn(a)
		}
	}
	cg.close()
	unix.Close(p[1])
	if err != nil {
		unix.Close(p[0])
		return 0, err
	}
	recs, rerr := readRecords(os.NewFile(uintptr(p[0]), "report"))
	var ws unix.WaitStatus
	_, _ = unix.Wait4(child, &ws, 0, nil)
	cmdPID := 0
	for _, r := range recs {
		switch r.Kind {
		case recordError:
			if cmdPID > 0 {
				_, _ = unix.Wait4(cmdPID, nil, 0, nil)
			}
			return 0, fmt.Errorf("%s: %w", stepNames[r.Step], syscall.Errno(r.Value))
		case recordPID:
			cmdPID = int(r.Value)
		}
	}
	if cmdPID <= 0 {
		return 0, fmt.Errorf("enter the guest: no command started (%v, child %v)", rerr, ws)
	}
	go forward(sigs, cmdPID, c.TTY)
	for {
		_, err := unix.Wait4(cmdPID, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("wait4", err)
		}
		break
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// procStart is a process's start time (field 22 of /proc/PID/stat; the
// command name before it may hold spaces and parentheses).
func procStart(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// forward passes the helper's signals on to the command; with a pty the
// terminal already sent SIGINT and SIGQUIT to the command's process group.
func forward(sigs chan os.Signal, pid int, tty bool) {
	for s := range sigs {
		if tty && (s == unix.SIGINT || s == unix.SIGQUIT) {
			continue
		}
		_ = unix.Kill(pid, s.(syscall.Signal))
	}
}

// readRecords reads the children's reports until every writer is gone
// (the grandchild's exec closes its copy).
func readRecords(f *os.File) ([]record, error) {
	defer f.Close()
	var out []record
	for {
		var r record
		if err := binary.Read(f, binary.NativeEndian, &r); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, r)
	}
}

// prepare builds the children's arguments: namespaces, capabilities and
// the second stage's command line, all before the fork.
func prepare(c *Config, pidfd, memfd int) (*forkArgs, error) {
	a := &forkArgs{
		pidfd:    uintptr(pidfd),
		memfd:    uintptr(memfd),
		statusFD: StatusFD,
		nsFlags:  unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP,
	}
	if c.UserNS {
		a.nsFlags |= unix.CLONE_NEWUSER
	}
	mask, err := caps.Mask(c.Drop)
	if err != nil {
		return nil, err
	}
	a.dropMask = mask
	// The effective and permitted sets: what this helper holds (host root:
	// everything; in a user namespace the same bits stand for the
	// namespace's capabilities) less the guest's drop set.
	a.capHdr = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var cur [2]unix.CapUserData
	if err := unix.Capget(&a.capHdr, &cur[0]); err != nil {
		return nil, os.NewSyscallError("capget", err)
	}
	perm := (uint64(cur[1].Permitted)<<32 | uint64(cur[0].Permitted)) &^ mask
	a.capData[0] = unix.CapUserData{Effective: uint32(perm), Permitted: uint32(perm)}
	a.capData[1] = unix.CapUserData{Effective: uint32(perm >> 32), Permitted: uint32(perm >> 32)}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	// GOMAXPROCS spares the second stage's runtime the guest's cgroup files.
	env := append(append([]string(nil), c.Env...), envConfig+"="+string(b), "GOMAXPROCS=1")
	if a.argv, err = cstrings([]string{"vmlite", InsideRole}); err != nil {
		return nil, err
	}
	if a.envv, err = cstrings(env); err != nil {
		return nil, err
	}
	a.empty = new(byte)
	return a, nil
}

// cstrings is a nil-terminated array of C strings.
func cstrings(ss []string) (**byte, error) {
	p, err := syscall.SlicePtrFromStrings(ss)
	if err != nil {
		return nil, err
	}
	return &p[0], nil
}

// writeNoFollow writes b to an existing file, refusing symlinks and
// anything that would block.
func writeNoFollow(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(b)
	return err
}

// Command builds the helper process for c; the caller sets its stdio and
// reads the status pipe (ExtraFiles[0], StatusFD in the helper).
func Command(c *Config, status *os.File) (*exec.Cmd, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{"vmlite", Role},
		Env:        append(os.Environ(), envConfig+"="+string(b)),
		ExtraFiles: []*os.File{status},
	}, nil
}
