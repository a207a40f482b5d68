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
	"fmt"
	"os"
	"strconv"

	"vmlite/internal/errdefs"
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

// defaultGuestsPerSupervisor is how many guests share one supervisor
// process unless VMLITE_GUESTS_PER_SUPERVISOR says otherwise: enough to
// make a supervisor's Go runtime a small share of each guest's memory,
// few enough that a supervisor that dies orphans a bounded set of guests.
const defaultGuestsPerSupervisor = 32

// GuestsPerSupervisor reads VMLITE_GUESTS_PER_SUPERVISOR (1: a dedicated
// supervisor process per guest).
func GuestsPerSupervisor() (int, error) {
	v := os.Getenv("VMLITE_GUESTS_PER_SUPERVISOR")
	if v == "" {
		return defaultGuestsPerSupervisor, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 4096 {
		return 0, fmt.Errorf("%w: VMLITE_GUESTS_PER_SUPERVISOR=%q: want a number from 1 (a supervisor per guest) to 4096", errdefs.ErrInvalid, v)
	}
	return n, nil
}

// defaultInitStages is how many pre-forked guest init stages a shared
// supervisor keeps waiting unless VMLITE_INIT_STAGES says otherwise: none.
// A cloned __init joins its cgroup without a move by pid (born in the
// cgroup2 tree, joining the v1 hierarchies itself), while a taken stage
// must be moved into the cgroup2 tree by pid (cgroup2 cannot rename its
// spare), which waits for an RCU grace period: on the hybrid and v2 hosts
// measured, a start that clones is the faster one (bench/README.md, "A
// start with headroom"), and a stage costs an idle vmlite-init process.
// On a v1 host without a cgroup2 mount a stage needs no move by pid.
const defaultInitStages = 0

// InitStages reads VMLITE_INIT_STAGES: how many pre-forked guest init
// stages each shared supervisor keeps (0: none, every start clones one).
func InitStages() (int, error) {
	v := os.Getenv("VMLITE_INIT_STAGES")
	if v == "" {
		return defaultInitStages, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 64 {
		return 0, fmt.Errorf("%w: VMLITE_INIT_STAGES=%q: want a number from 0 (no pre-forked init stages) to 64", errdefs.ErrInvalid, v)
	}
	return n, nil
}

// live checks ctx before a change.
func live(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &Error{Code: Canceled, Err: err}
	}
	return nil
}
