package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"vmlite/cgroup"
	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// This file holds what setmem, memtune and schedinfo share: finding a
// running guest's cgroup and changing its limits live.

// runningGuest is a running guest's launch plan and the limits it has now.
type runningGuest struct {
	runDir string
	plan   *plan.Plan
	limits plan.Limits
}

// loadRunning finds guest name's launch plan and live limits. A guest
// without a live supervisor is errdefs.ErrNotRunning.
func loadRunning(app *App, name string) (*runningGuest, error) {
	held, err := state.Held(app.Layout.LockFile(name))
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(app.Layout.PlanFile(name))
	if !held || errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("guest %q: %w", name, errdefs.ErrNotRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("guest %q: read launch plan: %w", name, err)
	}
	p, err := plan.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("guest %q: %w", name, err)
	}
	dir := app.Layout.RunDir(name)
	l, err := cgroup.LoadLive(dir, p.Cgroup.Limits)
	if err != nil {
		return nil, fmt.Errorf("guest %q: %w", name, err)
	}
	return &runningGuest{runDir: dir, plan: p, limits: l}, nil
}

// set writes l to the guest's cgroup and records it as its live limits.
// Limits the host cannot enforce are printed as warnings, as libvirt does.
func (g *runningGuest) set(app *App, l plan.Limits) error {
	m, err := cgroup.Open(g.plan.Cgroup)
	if err != nil {
		return err
	}
	err = m.Set(l)
	var w cgroup.Warnings
	if errors.As(err, &w) {
		for _, x := range w {
			fmt.Fprintf(app.Stderr, "vmlite: warning: %s not applied: %s\n", x.Limit, x.Reason)
		}
		err = nil
	}
	if err != nil {
		return fmt.Errorf("guest %q: %w", g.plan.Name, err)
	}
	g.limits = l
	return cgroup.SaveLive(g.runDir, l)
}
