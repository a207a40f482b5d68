// Package cgroup gives each guest its own cgroup, on cgroup v1 (legacy or
// hybrid) and v2 (unified) hosts, behind one small interface (Manager).
//
// Layout. A guest's cgroup is <hierarchy>/vmlite/<partition...>/<leaf> in
// every hierarchy the host has: on v2 the one unified tree; on v1 each
// controller hierarchy (memory, cpu, cpuset, ...), the named systemd
// hierarchy and, on a hybrid host, the cgroup2 "unified" mount too, so that
// a systemd guest finds itself in its own cgroup wherever it looks. The
// partition comes from <resource><partition> ("/machine" by default); the
// leaf is plan.CgroupName: NAME.ID, ID naming the state root, so the same
// name under two --root trees gives two cgroups. A partition element never
// has a leaf's form, so no guest nests inside another.
//
// Ownership rule. vmlite writes only below the "vmlite" directory at the top
// of each hierarchy (which it creates) and never to a cgroup it did not
// create: the host's root cgroup and its siblings are read, never changed.
// On v2 a controller that the host has not enabled in the root's
// cgroup.subtree_control is reported as an error, not enabled.
//
// Lifecycle, driven by the supervisor:
//
//	m, _ := cgroup.New("/sys/fs/cgroup", mode, plan.Cgroup)
//	m.Create()            // before the guest's first process runs
//	m.Delegate(uid, gid)  // with a user namespace: the guest's root owns its subtree
//	spawn: v2 SysProcAttr.UseCgroupFD = m.CgroupFD(); v1 m.Apply(pid) before releasing the child,
//	       or SelfJoin(m): the child joins the v1 hierarchies itself (JoinSelf)
//	or a spare made ahead (NewSpare, CreateSpare) with a process in it: Adopt(m, spare) renames it to m
//	...  m.Set(limits) (setmem), m.Stats() (status)
//	m.Kill()              // everything in the subtree, guest-made children included
//	m.Destroy()           // rmdir leaf-first; shared parents when empty
//
// Inside the guest, MountGuest builds the /sys/fs/cgroup an init expects.
//
// Status: Open(plan.Cgroup).Stats() reads usage and limits, Stats.Fields
// renders them; LoadLive returns the limits a guest runs with now (setmem,
// memtune and schedinfo record changes in its runtime directory).
//
// A Manager is not safe for concurrent use; one supervisor owns it. Several
// supervisors may create and destroy guests side by side: creation retries
// when a sibling's Destroy removes a shared parent at the same moment.
package cgroup

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// Mode is the host's cgroup layout.
type Mode int

// Host cgroup modes.
const (
	// V1 is the legacy layout: a tmpfs at /sys/fs/cgroup with one mount per
	// v1 hierarchy, possibly (hybrid) a cgroup2 mount at unified/ as well.
	V1 Mode = 1
	// V2 is the unified layout: cgroup2 mounted at /sys/fs/cgroup.
	V2 Mode = 2
)

// String returns "v1" or "v2".
func (m Mode) String() string {
	switch m {
	case V1:
		return "v1"
	case V2:
		return "v2"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode reads "v1" or "v2".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "v1":
		return V1, nil
	case "v2":
		return V2, nil
	}
	return 0, fmt.Errorf("cgroup mode %q: want v1 or v2: %w", s, errdefs.ErrInvalid)
}

// DefaultRoot is where the host's cgroup filesystems live.
const DefaultRoot = "/sys/fs/cgroup"

// DefaultPartition is used when the domain has no <resource><partition>.
const DefaultPartition = "/machine"

// TopDir is vmlite's directory at the top of each hierarchy.
const TopDir = "vmlite"

// Manager is one guest's cgroup in every hierarchy of the host.
type Manager interface {
	// Create makes the guest's directories in every hierarchy (and the
	// shared vmlite/<partition> parents as needed) and applies the limits it
	// was built with. Call it before the guest's first process runs. A leaf
	// left over from a crashed run is reused if it is empty. It may return
	// Warnings (see Set).
	Create() error
	// Apply moves process pid (all its threads) into the guest's cgroup in
	// every hierarchy. On v1 hosts the supervisor calls it between clone and
	// releasing the child, so that nothing the guest runs escapes.
	Apply(pid int) error
	// CgroupFD opens the guest's cgroup directory for
	// SysProcAttr.UseCgroupFD (CLONE_INTO_CGROUP): the child is born in its
	// cgroup. v2 only; on v1 it returns an error wrapping ErrV1. The caller
	// closes the fd after the spawn.
	CgroupFD() (int, error)
	// Set replaces the guest's limits while it runs (setmem, memtune,
	// schedinfo). Every field is written: a zero field means "no limit" or
	// the kernel's default, as in plan.Limits. Limits the host cannot
	// enforce are skipped and returned as Warnings once everything else is
	// applied; any other error stops at the first failure.
	Set(l plan.Limits) error
	// Stats reads the guest's usage counters and limits.
	Stats() (Stats, error)
	// BlkioWeight reads the block I/O weight the kernel applies to the
	// guest now (0: none applies on this host).
	BlkioWeight() (uint64, error)
	// Tuning returns recorded (the limits vmlite last applied) with its
	// memory and CPU scheduler fields as the guest's cgroup files say
	// now, which someone else may have written since: what libvirt's
	// memtune and schedinfo show of a running guest. A field whose file
	// the host lacks keeps its recorded value.
	Tuning(recorded plan.Limits) (plan.Limits, error)
	// OOMKills reads Stats' OOMKills alone: one file, not a dozen (a
	// stopping guest's final record needs only it).
	OOMKills() (uint64, error)
	// Delegate gives host uid/gid (the guest's mapped root) the guest's
	// directories and the files that create and move processes, so that a
	// guest init in a user namespace can manage its own subtree. Limits and
	// the guest's own cgroup stay root's.
	Delegate(uid, gid int) error
	// Procs lists every process in the guest's subtree, in every hierarchy,
	// sorted and without duplicates.
	Procs() ([]int, error)
	// Freeze stops every process of the subtree (vmlite suspend): the v1
	// freezer controller or cgroup.freeze on v2; it returns once the kernel
	// reports the tree frozen, or an error when that does not happen in
	// time (the tree is thawed again then).
	Freeze() error
	// Thaw lets a frozen subtree run again (vmlite resume).
	Thaw() error
	// Kill sends SIGKILL to everything in the subtree and waits until it is
	// empty: cgroup.kill where the kernel has it (v2, Linux >= 5.14), else
	// freeze, kill, thaw, until no process is left.
	Kill() error
	// Destroy removes the subtree, bottom-up, in every hierarchy, then the
	// vmlite/<partition> parents that became empty. Missing directories are
	// fine (Destroy is idempotent); a parent that another guest still uses is
	// left. Call it after Kill: a populated cgroup cannot be removed.
	Destroy() error
	// Paths maps each hierarchy to the guest's directory in it, keyed by
	// controller ("memory", "cpu", "cpuacct", ...; "name=systemd" for the
	// named v1 hierarchy, "unified" for a cgroup2 tree in either mode).
	Paths() map[string]string
}

// Errors for callers to test with errors.Is.
var (
	// ErrV1 is returned by operations that exist only on cgroup v2.
	ErrV1 = errors.New("not available on cgroup v1")
	// ErrUnsupported marks a limit the host cannot enforce (a Warning).
	ErrUnsupported = errors.New("limit not supported by this host")
	// ErrBusy is returned when processes remain in a cgroup that should be empty.
	ErrBusy = errors.New("cgroup still has processes")
	// ErrPartition marks a <resource><partition> that cannot be one.
	ErrPartition = errors.New("not a usable partition")
)

// Warning is one limit the host cannot enforce, with the reason.
type Warning struct {
	Limit  string // the limit, as a plan field name ("SwapBytes")
	Reason string
}

// Warnings are the limits Create or Set skipped. The rest was applied, so a
// caller may log them and go on:
//
//	var w cgroup.Warnings
//	if errors.As(err, &w) { log(w); err = nil }
type Warnings []Warning

func (w Warnings) Error() string {
	parts := make([]string, len(w))
	for i, x := range w {
		parts[i] = x.Limit + ": " + x.Reason
	}
	return "limits not applied: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrUnsupported) true for Warnings.
func (w Warnings) Is(target error) bool { return target == ErrUnsupported }

// New returns the manager of c's cgroup under fsRoot (DefaultRoot on a real
// host; tests pass a faked tree) for a host in mode. It reads fsRoot to find
// the hierarchies but creates nothing.
func New(fsRoot string, mode Mode, c plan.Cgroup) (Manager, error) {
	rel, err := RelPath(c)
	if err != nil {
		return nil, err
	}
	hs, err := discover(fsRoot, mode)
	if err != nil {
		return nil, err
	}
	return newManager(mode, hs, rel, c.Limits, realDirs{}), nil
}

// RelPath returns the guest's cgroup path relative to a hierarchy's root:
// vmlite/<partition...>/<name>. It rejects names that could leave the
// vmlite tree.
func RelPath(c plan.Cgroup) (string, error) {
	part := c.Partition
	if part == "" {
		part = DefaultPartition
	}
	if !strings.HasPrefix(part, "/") {
		return "", fmt.Errorf("cgroup partition %q: must start with /: %w", part, errdefs.ErrInvalid)
	}
	elems := []string{TopDir}
	for _, p := range strings.Split(strings.Trim(part, "/"), "/") {
		if p == "" {
			continue
		}
		if err := checkElem(p); err != nil {
			return "", fmt.Errorf("cgroup partition %q: %w", part, err)
		}
		if plan.IsGuestCgroupName(p) {
			return "", fmt.Errorf("cgroup partition %q: %q is a guest's cgroup, not a partition: %w: %w", part, p, ErrPartition, errdefs.ErrInvalid)
		}
		elems = append(elems, p)
	}
	if err := checkElem(c.Name); err != nil {
		return "", fmt.Errorf("cgroup name %q: %w", c.Name, err)
	}
	return filepath.Join(append(elems, c.Name)...), nil
}

// checkElem accepts one path element that cannot collide with a control
// file: control files are "<controller>.<knob>" or "cgroup.*", "tasks",
// "notify_on_release", "release_agent".
func checkElem(s string) error {
	switch {
	case s == "", s == ".", s == "..":
		return fmt.Errorf("empty or dot element: %w", errdefs.ErrInvalid)
	case strings.ContainsAny(s, "/\x00\n"):
		return fmt.Errorf("contains '/', NUL or newline: %w", errdefs.ErrInvalid)
	case s == "tasks", s == "notify_on_release", s == "release_agent", strings.HasPrefix(s, "cgroup."):
		return fmt.Errorf("reserved cgroup file name: %w", errdefs.ErrInvalid)
	case len(s) > 255:
		return fmt.Errorf("longer than 255 bytes: %w", errdefs.ErrInvalid)
	}
	return nil
}
