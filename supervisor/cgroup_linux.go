package supervisor

import (
	"errors"
	"os/exec"
	"strings"
	"sync"

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
	if s.cg == nil {
		if err := s.createCgroup(); err != nil {
			return err
		}
	}
	m := s.cg
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

// createCgroup makes the guest's cgroup, unless a pre-forked stage
// brought it (takeSpare).
func (s *Supervisor) createCgroup() error {
	mode, err := hostCgroupMode()
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
	return nil
}

// hostCgroupMode is cgroup.Detect, run once per supervisor process (it
// reads the whole mount table): a host's cgroup mode does not change
// under running guests, and a shared supervisor creates dozens of
// cgroups. A failed detection is not kept.
func hostCgroupMode() (cgroup.Mode, error) {
	detectedMode.mu.Lock()
	defer detectedMode.mu.Unlock()
	if !detectedMode.ok {
		m, err := cgroup.Detect()
		if err != nil {
			return m, err
		}
		detectedMode.mode, detectedMode.ok = m, true
	}
	return detectedMode.mode, nil
}

var detectedMode struct {
	mu   sync.Mutex
	mode cgroup.Mode
	ok   bool
}

// limitXPath is where each plan.Limits field comes from in the domain XML
// (launch/limits.go), for the errors of a value the kernel refuses.
var limitXPath = map[string]string{
	"MemoryBytes": "/domain/memory", "MemorySoftBytes": "/domain/memtune/soft_limit",
	"SwapBytes": "/domain/memtune/swap_hard_limit", "CPUShares": "/domain/cputune/shares",
	"CPUPeriodUS": "/domain/cputune/period", "CPUQuotaUS": "/domain/cputune/quota",
	"CPUSet": "/domain/vcpu/@cpuset", "BlkioWeight": "/domain/blkiotune/weight",
}

// attachCgroupFD makes the child be born in the guest's cgroup2 tree (the
// v2 host's, the hybrid host's unified one: CLONE_INTO_CGROUP); the v1
// hierarchies it joins itself (joinCgroup). Neither moves a process by
// pid, which takes the kernel's cgroup threadgroup lock and waits for an
// RCU grace period with the cgroup mutex held (cgroup/selfjoin_linux.go).
func (s *Supervisor) attachCgroupFD(cmd *exec.Cmd) error {
	if s.cg == nil {
		return nil
	}
	fd, ok, err := cgroup.Cgroup2FD(s.cg)
	if err != nil {
		return &plan.StepFailure{Step: "open cgroup", Err: err}
	}
	if !ok {
		return nil // v1 without a cgroup2 mount
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
	if join := s.spareJoin; join != nil {
		// A stage from its spare cgroup: in the renamed hierarchies already.
		s.spareJoin = nil
		if err := join(pid); err != nil {
			return &plan.StepFailure{Step: "join cgroup", Err: err}
		}
		return nil
	}
	if s.cgMode == cgroup.V1 {
		// __init joins the v1 hierarchies itself (cgroup/selfjoin_linux.go);
		// the cgroup2 tree of a hybrid host is joined here.
		tasks, join, err := cgroup.SelfJoin(s.cg)
		if err == nil {
			if !s.bornInCgroup {
				if err := join(pid); err != nil {
					closeFDs(tasks)
					return &plan.StepFailure{Step: "join cgroup", Err: err}
				}
			}
			s.selfJoin = tasks
			return nil
		}
		s.log.Printf("open the cgroup's tasks files: %v: moving init by pid", err)
	}
	if s.bornInCgroup && s.cgMode == cgroup.V2 {
		return nil
	}
	if err := s.cg.Apply(pid); err != nil {
		return &plan.StepFailure{Step: "join cgroup", Err: err}
	}
	return nil
}

// pidJoin is how a taken stage joins the rest of the guest's cgroup: by
// pid, into what its spare lacked, or into all of it without a spare.
func (s *Supervisor) pidJoin() func(pid int) error {
	join := s.spareJoin
	s.spareJoin = nil
	if join == nil {
		join = s.cg.Apply
	}
	return func(pid int) error {
		if err := join(pid); err != nil {
			return &plan.StepFailure{Step: "join cgroup", Err: err}
		}
		return nil
	}
}

// awaitJoin waits for a pending move by pid (hostSideOfBoot) to end;
// nil when there is none.
func (s *Supervisor) awaitJoin() error {
	done := s.pendingJoin
	if done == nil {
		return nil
	}
	s.pendingJoin = nil
	return <-done
}

// takeSelfJoin returns the tasks files the boot's __init joins by itself
// (joinCgroup), which the caller closes; nil when it was moved by pid.
func (s *Supervisor) takeSelfJoin() []int {
	t := s.selfJoin
	s.selfJoin = nil
	return t
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
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

// sweepSparesOf removes the spare cgroups that dead supervisors of p's
// state root left in p's partition.
func sweepSparesOf(p *plan.Plan) error {
	i := strings.LastIndexByte(p.Cgroup.Name, '.')
	if i < 0 {
		return nil
	}
	mode, err := hostCgroupMode()
	if err != nil {
		return err
	}
	return cgroup.SweepSpares(cgroup.DefaultRoot, mode, p.Cgroup.Partition, p.Cgroup.Name[i+1:])
}
