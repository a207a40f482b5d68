package supervisor

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/image/layer"
	"vmlite/internal/procstat"
	"vmlite/plan"
	"vmlite/state"
)

// InitAlive reports whether the init that st records (pid and start time)
// still runs: a state file that names another, or a dead one, is stale.
func InitAlive(st *state.State) bool {
	if st == nil || st.InitPID <= 0 {
		return false
	}
	// Ended, not the start time alone: a killed init this process's
	// parent does not reap (an orphan's, reparented to a PID 1 that reaps
	// nothing) stays a zombie, and waiting for it to go would wait out the
	// whole deadline.
	return !procstat.Ended(st.InitPID, st.InitStart)
}

// ProcStart returns a process's start time in clock ticks since boot.
func ProcStart(pid int) (uint64, error) {
	st, err := procstat.Read(pid)
	return st.StartTime, err
}

// CleanupOrphan stops the guest of a dead supervisor and removes what it
// left: processes, cgroup, runtime directory. The caller holds the lock.
func CleanupOrphan(p *plan.Plan, st *state.State) error {
	if InitAlive(st) {
		_ = unix.Kill(st.InitPID, unix.SIGKILL)
		deadline := time.Now().Add(10 * time.Second)
		for InitAlive(st) && time.Now().Before(deadline) {
			time.Sleep(pollInterval)
		}
	}
	s := newSupervisor(p)
	var errs []error
	if err := s.cleanupCgroupOf(); err != nil {
		errs = append(errs, err)
	}
	// The dead supervisor's spare cgroups (stages_linux.go) go too.
	if err := sweepSparesOf(p); err != nil {
		errs = append(errs, err)
	}
	// The guest is dead: the images it had served go too.
	if err := stopOrphanExports(p.Paths.RunDir); err != nil {
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
	// A transient guest's layer goes with it, as its supervisor's stop
	// would have removed it (registerLayerRemoval).
	if ov := p.Rootfs.Overlay; ov != nil && p.Transient {
		if err := layer.Remove(ov.LayerDir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
