package devices

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ApplyV2 makes the cgroup v2 directory dir allow exactly rules: it loads
// Program(rules) and attaches it to dir as its device program. Call it
// before a process runs in dir.
//
// It attaches with BPF_F_ALLOW_MULTI: the kernel then runs every device
// program on the path from the cgroup of the process up to the root, and a
// request must be allowed by all of them. A cgroup the guest makes below
// dir (its systemd does, and may attach its own program) can narrow the
// list, never widen it, as a v1 child cgroup cannot.
//
// It uses the legacy BPF_PROG_ATTACH rather than a bpf link, on purpose:
// the cgroup itself then holds the program, until the cgroup is removed.
// A link is detached when its last fd closes, so the allow-list would
// depend on the supervisor process staying alive: a supervisor that
// crashed or was killed would leave its guest running with every host
// device open to it. Attached this way there is no handle to keep (one
// supervisor process may run several guests) and nothing to undo: the
// guest's cgroup removal takes the program with it. Kernels without bpf
// links for cgroups (before 5.7) work the same.
//
// Programs already attached to dir are detached once the new one is in
// place (no window without a list): they are left by an earlier run
// whose cgroup was reused, and might deny what this run allows.
//
// The four bpf(2) commands are made here directly (bpf_linux.go's
// attrs), not through cilium/ebpf: the supervisor links this package,
// and that library brings BTF, ELF and kallsyms readers it never uses.
func ApplyV2(dir string, rules []Rule) error {
	insns, err := Program(rules)
	if err != nil {
		return err
	}
	prog, err := loadDeviceProgram(insns)
	if err != nil {
		return fmt.Errorf("device allow-list: load BPF device program (a kernel with CONFIG_CGROUP_BPF is needed): %w", err)
	}
	// The cgroup keeps its own reference once attached.
	defer unix.Close(prog)
	cg, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("device allow-list: %w", err)
	}
	defer cg.Close()
	target := int(cg.Fd())
	old, err := attachedPrograms(target)
	if err != nil {
		return fmt.Errorf("device allow-list: programs attached to %s: %w", dir, err)
	}
	if err := progAttach(unix.BPF_PROG_ATTACH, target, prog, unix.BPF_F_ALLOW_MULTI); err != nil {
		return fmt.Errorf("device allow-list: attach BPF device program to %s: %w", dir, err)
	}
	var errs []error
	for _, id := range old {
		if err := detach(target, id); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("device allow-list: detach an earlier run's program from %s: %w", dir, err)
	}
	return nil
}

// detach removes the device program id from the cgroup open as target.
func detach(target int, id uint32) error {
	fd, err := progFDByID(id)
	if errors.Is(err, unix.ENOENT) {
		return nil // freed meanwhile: no longer attached
	}
	if err != nil {
		return fmt.Errorf("program %d: %w", id, err)
	}
	defer unix.Close(fd)
	if err := progAttach(unix.BPF_PROG_DETACH, target, fd, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("detach program %d: %w", id, err)
	}
	return nil
}

// The parts of union bpf_attr (include/uapi/linux/bpf.h) the commands
// below fill. The kernel takes a shorter attr than its own (the rest is
// zero). Pointers travel as u64: what they point to is heap memory (a
// returned slice, a constant string, a large buffer), which the Go
// runtime never moves, kept alive until the call returns.
type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64
	license     uint64
	logLevel    uint32
	logSize     uint32
	logBuf      uint64
	kernVersion uint32
	progFlags   uint32
	progName    [unix.BPF_OBJ_NAME_LEN]byte
}

type progAttachAttr struct {
	targetFD     uint32
	attachBPFFD  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBPFFD uint32
}

type progQueryAttr struct {
	targetFD    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     uint64
	progCnt     uint32
	_           uint32
}

type getIDAttr struct {
	id        uint32
	nextID    uint32
	openFlags uint32
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// license: device programs call no GPL-only helper.
const license = "Apache-2.0\x00"

// verifierLogSize bounds the verifier's explanation of a refusal.
const verifierLogSize = 256 << 10

// loadDeviceProgram loads insns (Program's encoding) as a
// BPF_PROG_TYPE_CGROUP_DEVICE program and returns its fd (close on exec).
// A refused program is loaded again with the verifier's log, whose last
// lines join the error.
func loadDeviceProgram(insns []byte) (int, error) {
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns) / insnSize),
		insns:    uint64(uintptr(unsafe.Pointer(unsafe.SliceData(insns)))),
		license:  uint64(uintptr(unsafe.Pointer(unsafe.StringData(license)))),
	}
	copy(attr.progName[:], "vmlite_devices")
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EACCES) {
		log := make([]byte, verifierLogSize)
		attr.logLevel, attr.logSize = 1, uint32(len(log))
		attr.logBuf = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(log))))
		if _, lerr := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); lerr != nil {
			if msg := lastLines(log, 3); msg != "" {
				err = fmt.Errorf("%w (verifier: %s)", err, msg)
			}
		}
		runtime.KeepAlive(log)
	}
	runtime.KeepAlive(insns)
	return fd, err
}

// lastLines is the last n non-empty lines of a NUL-terminated log.
func lastLines(log []byte, n int) string {
	s, _, _ := strings.Cut(string(log), "\x00")
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' })
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// progAttach attaches (BPF_PROG_ATTACH) or detaches (BPF_PROG_DETACH) the
// device program prog to or from the cgroup target.
func progAttach(cmd, target, prog int, flags uint32) error {
	attr := progAttachAttr{targetFD: uint32(target), attachBPFFD: uint32(prog), attachType: unix.BPF_CGROUP_DEVICE, attachFlags: flags}
	_, err := bpf(cmd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// attachedPrograms lists the ids of the device programs attached to the
// cgroup target itself (not inherited ones).
func attachedPrograms(target int) ([]uint32, error) {
	for n := 4; ; {
		ids := make([]uint32, n)
		attr := progQueryAttr{targetFD: uint32(target), attachType: unix.BPF_CGROUP_DEVICE,
			progIDs: uint64(uintptr(unsafe.Pointer(unsafe.SliceData(ids)))), progCnt: uint32(n)}
		_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(ids)
		switch {
		case errors.Is(err, unix.ENOSPC) && int(attr.progCnt) > n:
			n = int(attr.progCnt) // more attached than room: the kernel says how many
			continue
		case err != nil:
			return nil, err
		}
		return ids[:attr.progCnt], nil
	}
}

// progFDByID opens the program id (BPF_PROG_GET_FD_BY_ID).
func progFDByID(id uint32) (int, error) {
	attr := getIDAttr{id: id}
	return bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}
