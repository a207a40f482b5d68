package devices

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
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
func ApplyV2(dir string, rules []Rule) error {
	insns, err := Program(rules)
	if err != nil {
		return err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "vmlite_devices",
		Type:         ebpf.CGroupDevice,
		License:      "Apache-2.0",
		Instructions: insns,
	})
	if err != nil {
		return fmt.Errorf("device allow-list: load BPF device program (a kernel with CONFIG_CGROUP_BPF is needed): %w", err)
	}
	// The cgroup keeps its own reference once attached.
	defer prog.Close()
	cg, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("device allow-list: %w", err)
	}
	defer cg.Close()
	target := int(cg.Fd())
	old, err := link.QueryPrograms(link.QueryOptions{Target: target, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		return fmt.Errorf("device allow-list: programs attached to %s: %w", dir, err)
	}
	if err := link.RawAttachProgram(link.RawAttachProgramOptions{
		Target:  target,
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   unix.BPF_F_ALLOW_MULTI,
	}); err != nil {
		return fmt.Errorf("device allow-list: attach BPF device program to %s: %w", dir, err)
	}
	var errs []error
	for _, p := range old.Programs {
		if err := detach(target, p.ID); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("device allow-list: detach an earlier run's program from %s: %w", dir, err)
	}
	return nil
}

// detach removes the device program id from the cgroup open as target.
func detach(target int, id ebpf.ProgramID) error {
	p, err := ebpf.NewProgramFromID(id)
	if errors.Is(err, os.ErrNotExist) {
		return nil // freed meanwhile: no longer attached
	}
	if err != nil {
		return fmt.Errorf("program %d: %w", id, err)
	}
	defer p.Close()
	return link.RawDetachProgram(link.RawDetachProgramOptions{Target: target, Program: p, Attach: ebpf.AttachCGroupDevice})
}
