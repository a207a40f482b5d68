package supervisor

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/plan"
	"vmlite/state"
)

// OrphanAlive reports whether the guest of a dead supervisor still runs:
// its recorded init pid exists and runs the plan's init.
func OrphanAlive(p *plan.Plan, st *state.State) bool {
	if st == nil || st.InitPID <= 0 {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.InitPID))
	if err != nil {
		return false
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return string(argv0) == p.Init.Path
}

// CleanupOrphan stops the guest of a dead supervisor and removes what it
// left: processes, cgroup, runtime directory. The caller holds the lock.
func CleanupOrphan(p *plan.Plan, st *state.State) error {
	if OrphanAlive(p, st) {
		_ = unix.Kill(st.InitPID, unix.SIGKILL)
		deadline := time.Now().Add(10 * time.Second)
		for OrphanAlive(p, st) && time.Now().Before(deadline) {
			time.Sleep(pollInterval)
		}
	}
	s := newSupervisor(p)
	var errs []error
	if err := s.cleanupCgroupOf(); err != nil {
		errs = append(errs, err)
	}
	final := state.State{Name: p.Name, UUID: p.UUID, Status: state.Shutoff, Reason: state.ReasonDestroyed, StoppedAt: time.Now(),
		Error: "cleaned up after its supervisor died"}
	if st != nil {
		final.StartedAt, final.Transient = st.StartedAt, st.Transient
	}
	if err := state.Write(p.Paths.LastFile, &final); err != nil {
		errs = append(errs, err)
	}
	for _, f := range []string{p.Paths.StateFile, p.Paths.PlanFile, p.Paths.LiveXML, p.Paths.ControlSocket} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, c := range p.Consoles {
		_ = os.Remove(c.Socket)
	}
	return errors.Join(errs...)
}
