package supervisor

import (
	"errors"
	"os/exec"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// cgroupHandle is the guest's cgroup.
type cgroupHandle = cgroup.Manager

// setupCgroup creates the guest's cgroup before its init exists, so nothing
// the guest starts can escape it, and delegates it to a mapped guest's root
// (its systemd manages its own subtree).
func (s *Supervisor) setupCgroup() error {
	mode, err := cgroup.Detect()
	if err != nil {
		return &plan.StepFailure{Step: "detect cgroup mode", Err: err}
	}
	m, err := cgroup.New(cgroup.DefaultRoot, mode, s.p.Cgroup)
	if err != nil {
		return &plan.StepFailure{Step: "create cgroup", XMLPath: "/domain/resource/partition", Err: err, User: true}
	}
	s.cgMode = mode
	if err := m.Create(); err != nil {
		var w cgroup.Warnings
		if !errors.As(err, &w) {
			// Create removed what it made; a cgroup that was there (another
			// guest's) is refused and left alone: no undo to register.
			se := &plan.StepFailure{Step: "create cgroup", Err: err}
			var le *cgroup.LimitError
			switch {
			case errors.Is(err, cgroup.ErrPartition):
				se.XMLPath, se.User = "/domain/resource/partition", true
			case errors.As(err, &le) && errors.Is(err, errdefs.ErrInvalid):
				se.XMLPath, se.User = limitXPath[le.Limit], true
			case errors.Is(err, errdefs.ErrInvalid), errors.Is(err, errdefs.ErrAlreadyExists):
				se.User = true
			}
			return se
		}
		s.log.Printf("limits this host cannot enforce: %v", w)
	}
	// Registered once the cgroup is ours, and first: it runs after
	// everything else is gone.
	s.hostRevert.Add("remove cgroup", func() error {
		return removeCgroup(m)
	})
	s.cg = m
	if err := s.restrictDevices(m); err != nil {
		return err
	}
	if s.p.IDMap.Enabled() {
		uid, gid := s.p.IDMap.HostRoot()
		if err := m.Delegate(int(uid), int(gid)); err != nil {
			return &plan.StepFailure{Step: "delegate cgroup to the guest's root", Err: err}
		}
	}
	return nil
}

// limitXPath is where each plan.Limits field comes from in the domain XML
// (launch/limits.go), for the errors of a value the kernel refuses.
var limitXPath = map[string]string{
	"MemoryBytes": "/domain/memory", "MemorySoftBytes": "/domain/memtune/soft_limit",
	"SwapBytes": "/domain/memtune/swap_hard_limit", "CPUShares": "/domain/cputune/shares",
	"CPUPeriodUS": "/domain/cputune/period", "CPUQuotaUS": "/domain/cputune/quota",
	"CPUSet": "/domain/vcpu/@cpuset", "BlkioWeight": "/domain/blkiotune/weight",
}

// attachCgroupFD makes the child be born in the guest's cgroup on cgroup v2
// (CLONE_INTO_CGROUP); on v1 joinCgroup moves it before release instead.
func (s *Supervisor) attachCgroupFD(cmd *exec.Cmd) error {
	if s.cgMode != cgroup.V2 || s.cg == nil {
		return nil // v1, or the first boot: the cgroup is made after the clone
	}
	fd, err := s.cg.CgroupFD()
	if err != nil {
		return &plan.StepFailure{Step: "open cgroup", Err: err}
	}
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = fd
	s.bornInCgroup = true
	s.bootRevert.Add("close cgroup fd", func() error {
		unix.Close(fd)
		return nil
	})
	return nil
}

// joinCgroup puts the guest's init in its cgroup by pid, before it is
// released (so nothing escapes), unless it was born there (cgroup v2
// restarts, CLONE_INTO_CGROUP).
func (s *Supervisor) joinCgroup(pid int) error {
	if s.bornInCgroup {
		return nil
	}
	if err := s.cg.Apply(pid); err != nil {
		return &plan.StepFailure{Step: "join cgroup", Err: err}
	}
	return nil
}

// killGuestProcesses kills whatever is left in the guest's cgroup and waits
// until it is empty.
func (s *Supervisor) killGuestProcesses() error {
	if s.cg == nil {
		return nil
	}
	return s.cg.Kill()
}

// cleanupCgroupOf kills and removes the guest's cgroup of a dead supervisor.
func (s *Supervisor) cleanupCgroupOf() error {
	m, err := cgroup.Open(s.p.Cgroup)
	if err != nil {
		return err
	}
	if err := m.Kill(); err != nil {
		return err
	}
	return m.Destroy()
}
