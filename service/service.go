// Package service is every operation on vmlite's guests and managed
// networks, for both front ends: the CLI (cmd/vmlite/cli) and the libvirt
// RPC server. Neither re-implements any of it; both take the same locks,
// the guest's lock file among them, so a start through one and a start
// through the other of the same guest cannot both win.
//
// Each operation takes a context (checked before it changes anything; a
// running boot or stop is not interrupted half-way), returns typed results
// rather than text, and fails with an *Error whose Code maps onto
// libvirt's error numbers (see Code). The errdefs class of the cause stays
// in the chain, so errors.Is(err, errdefs.ErrNotFound) and the CLI's exit
// status work as before.
//
// A guest's id is libvirt's: positive while it runs (the host pid of its
// init, as dumpxml's id= shows it), 0 otherwise.
package service

import (
	"context"
	"encoding/json"
	"os"

	"vmlite/launch"
	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor/client"
)

// Options configure a Service.
type Options struct {
	Layout state.Layout
	// GuestsPerSupervisor is how many guests one supervisor process may
	// host; 0 reads VMLITE_GUESTS_PER_SUPERVISOR at each start (default
	// 32; a bad value fails the start).
	GuestsPerSupervisor int
	// Events, if not nil, hears of every change made through the service.
	Events Events
}

// Service runs the operations on one state layout. Its methods are safe
// for concurrent use; the locks that matter are on the host (flock), so
// two Services (two processes) on one layout are as safe as one.
type Service struct {
	layout state.Layout
	per    int
	events Events
	// launch hands a prepared guest to a supervisor (client.Launch;
	// tests replace it).
	launch func(p *plan.Plan, b json.RawMessage, lock *os.File, o client.LaunchOptions) (plan.StartResult, error)
}

// New returns a Service.
func New(o Options) *Service {
	return &Service{layout: o.Layout, per: o.GuestsPerSupervisor, events: o.Events, launch: client.Launch}
}

// guestsPer is the number of guests per supervisor process for the next
// start.
func (s *Service) guestsPer() (int, error) {
	if s.per > 0 {
		return s.per, nil
	}
	return GuestsPerSupervisor()
}

// Layout is the state layout the service works on.
func (s *Service) Layout() state.Layout { return s.layout }

// GuestsPerSupervisor reads VMLITE_GUESTS_PER_SUPERVISOR (1: a dedicated
// supervisor process per guest): launch.GuestsPerSupervisor.
func GuestsPerSupervisor() (int, error) { return launch.GuestsPerSupervisor() }

// InitStages reads VMLITE_INIT_STAGES: launch.InitStages.
func InitStages() (int, error) { return launch.InitStages() }

// live checks ctx before a change.
func live(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &Error{Code: Canceled, Err: err}
	}
	return nil
}
