package client

import (
	"time"

	"vmlite/internal/procstat"
	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor"
)

// OrphanAlive reports whether the guest of a dead supervisor still runs:
// its recorded init pid exists with the recorded start time.
func OrphanAlive(p *plan.Plan, st *state.State) bool { return supervisor.InitAlive(st) }

// WaitExit waits up to limit for process pid to end (a zombie counts as
// ended: the supervisor's parent is init, which reaps it in its own time).
func WaitExit(pid int, limit time.Duration) {
	if pid <= 0 {
		return
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if st, err := procstat.Read(pid); err != nil || st.Zombie() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
