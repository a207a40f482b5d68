package client

import (
	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor"
)

// OrphanAlive reports whether the guest of a dead supervisor still runs:
// its recorded init pid exists with the recorded start time.
func OrphanAlive(p *plan.Plan, st *state.State) bool { return supervisor.InitAlive(st) }
