package cgroup

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// Default values a zero plan.Limits field resets to.
const (
	defaultCPUShares   = 1024   // v1 cpu.shares
	defaultCPUWeight   = 100    // v2 cpu.weight
	defaultCFSPeriodUS = 100000 // both modes' CFS period
)

// Set implements Manager.
func (m *manager) Set(l plan.Limits) error {
	if err := m.apply(l); err != nil {
		return err
	}
	m.limits = l
	return nil
}

func (m *manager) apply(l plan.Limits) error {
	if err := ValidateLimits(l); err != nil {
		return err
	}
	var w Warnings
	var err error
	if m.mode == V2 {
		err = m.applyV2(l, &w)
	} else {
		err = m.applyV1(l, &w)
	}
	if err != nil {
		return err
	}
	if len(w) > 0 {
		return w
	}
	return nil
}

// ValidateLimits checks what the kernel would refuse with a bare EINVAL, so
// that the user learns which value is wrong.
func ValidateLimits(l plan.Limits) error {
	if l.SwapBytes > 0 && (l.MemoryBytes == 0 || l.SwapBytes < l.MemoryBytes) {
		return fmt.Errorf("swap_hard_limit (%d bytes) must be at least the memory hard limit (%d bytes; memory+swap, as libvirt): %w",
			l.SwapBytes, l.MemoryBytes, errdefs.ErrInvalid)
	}
	if l.CPUPeriodUS != 0 && (l.CPUPeriodUS < 1000 || l.CPUPeriodUS > 1000000) {
		return fmt.Errorf("cpu period %dus: must be 1000..1000000: %w", l.CPUPeriodUS, errdefs.ErrInvalid)
	}
	if l.CPUQuotaUS > 0 && l.CPUQuotaUS < 1000 {
		return fmt.Errorf("cpu quota %dus: must be at least 1000: %w", l.CPUQuotaUS, errdefs.ErrInvalid)
	}
	if l.CPUShares == 1 || l.CPUShares > 262144 {
		return fmt.Errorf("cpu shares %d: must be 2..262144: %w", l.CPUShares, errdefs.ErrInvalid)
	}
	if strings.ContainsAny(l.CPUSet, " \n\t") {
		return fmt.Errorf("cpuset %q: a list like 0-3,6: %w", l.CPUSet, errdefs.ErrInvalid)
	}
	if l.BlkioWeight != 0 && (l.BlkioWeight < 10 || l.BlkioWeight > 1000) {
		return fmt.Errorf("blkio weight %d: must be 10..1000: %w", l.BlkioWeight, errdefs.ErrInvalid)
	}
	for _, d := range l.BlkioDevices {
		if d.Weight != 0 && (d.Weight < 10 || d.Weight > 1000) {
			return fmt.Errorf("blkio weight %d of %s: must be 10..1000: %w", d.Weight, d.Path, errdefs.ErrInvalid)
		}
	}
	return nil
}

// SharesToWeight converts v1 cpu.shares (2..262144) to v2 cpu.weight
// (1..10000) the way runc and crun do, so the same XML gives the same
// relative weights on both kinds of host.
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return defaultCPUWeight
	}
	if shares < 2 {
		shares = 2
	}
	return 1 + ((shares-2)*9999)/262142
}

// setter writes limit files of one guest directory and records the limits
// the host cannot take.
type setter struct {
	m    *manager
	h    hierarchy
	w    *Warnings
	dir  string
	mode Mode
}

func (m *manager) setter(h hierarchy, w *Warnings) setter {
	return setter{m: m, h: h, w: w, dir: m.leaf(h), mode: m.mode}
}

// set writes value to file. A missing file is a Warning when the limit was
// asked for (wanted) and silently skipped when we only reset a default.
func (s setter) set(file, value, limit string, wanted bool) error {
	err := s.m.write(s.h, filepath.Join(s.dir, file), value)
	if err == nil {
		return nil
	}
	if isNotExist(err) {
		if wanted {
			*s.w = append(*s.w, Warning{Limit: limit, Reason: fmt.Sprintf("the kernel has no %s here", file)})
		}
		return nil
	}
	le := &LimitError{Limit: limit, Value: value, Err: err}
	if limit == "CPUSet" && (errors.Is(err, syscall.ERANGE) || errors.Is(err, syscall.EINVAL)) {
		for _, f := range []string{"cpuset.cpus.effective", "cpuset.cpus"} {
			if v, rerr := readString(filepath.Join(filepath.Dir(s.dir), f)); rerr == nil && strings.TrimSpace(v) != "" {
				le.Hint = fmt.Sprintf("the host gives guests CPUs %s; choose CPUs among them", strings.TrimSpace(v))
				break
			}
		}
	}
	return le
}

// LimitError is a limit the kernel refused: Limit names the plan.Limits
// field, Value what was written. With EINVAL or ERANGE it is the user's
// value (errors.Is(err, errdefs.ErrInvalid)); Hint says what would do.
type LimitError struct {
	Limit, Value, Hint string
	Err                error
}

func (e *LimitError) Error() string {
	msg := fmt.Sprintf("set %s to %q: %v", e.Limit, e.Value, e.Err)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

func (e *LimitError) Unwrap() error { return e.Err }

// Is makes a value the kernel refused an errdefs.ErrInvalid.
func (e *LimitError) Is(target error) bool {
	return target == errdefs.ErrInvalid && (errors.Is(e.Err, syscall.EINVAL) || errors.Is(e.Err, syscall.ERANGE))
}

// setFirst writes value to the first of files that exists.
func (s setter) setFirst(files []string, value, limit string, wanted bool) error {
	for _, f := range files {
		if exists(filepath.Join(s.dir, f)) {
			return s.set(f, value, limit, wanted)
		}
	}
	return s.set(files[0], value, limit, wanted)
}

// missingController is the error for a limit whose controller the host does
// not give us.
func missingController(c, where string) error {
	return fmt.Errorf("cgroup controller %q is not available in %s; vmlite never changes the host's own cgroups: "+
		"enable it there (v2: add +%s to the root's cgroup.subtree_control; v1: mount the hierarchy)", c, where, c)
}

// blkioDevice is one resolved <blkiotune><device>.
type blkioDevice struct {
	plan.BlkioDevice
	num string // MAJ:MIN
}

func (m *manager) resolveDevices(ds []plan.BlkioDevice) ([]blkioDevice, error) {
	out := make([]blkioDevice, 0, len(ds))
	for _, d := range ds {
		n, err := m.devnum(d.Path)
		if err != nil {
			return nil, fmt.Errorf("blkiotune device %s: %w", d.Path, err)
		}
		out = append(out, blkioDevice{BlkioDevice: d, num: n})
	}
	return out, nil
}

func memoryWanted(l plan.Limits) bool {
	return l.MemoryBytes > 0 || l.MemorySoftBytes > 0 || l.SwapBytes > 0
}

func cpuWanted(l plan.Limits) bool {
	return l.CPUShares > 0 || l.CPUPeriodUS > 0 || l.CPUQuotaUS > 0
}

func blkioWanted(l plan.Limits) bool { return l.BlkioWeight > 0 || len(l.BlkioDevices) > 0 }
