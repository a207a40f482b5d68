package service

import (
	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor"
	"vmlite/supervisor/client"
)

// orphans is launch.Orphans on the supervisor package's clean-up: what a
// start does with the guest of a dead supervisor.
type orphans struct{}

func (orphans) Alive(p *plan.Plan, st *state.State) bool { return client.OrphanAlive(p, st) }

func (orphans) Cleanup(p *plan.Plan, st *state.State) error { return supervisor.CleanupOrphan(p, st) }
