package uidmap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"vmlite/plan"
	"vmlite/state"
)

// CheckRunning refuses p when its idmap is invalid or overlaps the host ids
// of another running guest of any state root (see CheckAgainst). On success
// it returns with the host-wide idmap lock held and p's ids recorded in
// HostDir: the caller also records them in p's plan.json (with the guest's
// lock held) before it calls release, so that a concurrent start sees them.
// Guests without a map are not checked.
func CheckRunning(l state.Layout, p *plan.Plan) (release func(), err error) {
	if !p.IDMap.Enabled() {
		// No host ids to collide: a guest without a map needs neither the
		// lock nor a look at the others (a start of hundreds of such guests
		// would otherwise read every running guest's plan, each time).
		return func() {}, nil
	}
	lock, err := lockHost()
	if err != nil {
		return nil, err
	}
	release = func() { lock.Close() }
	running, err := AllRunningMaps(l)
	if err == nil {
		err = CheckAgainst(p, running)
	}
	if err == nil {
		err = CheckSubIDs(p)
	}
	if err == nil {
		err = writeRecord(l, p)
	}
	if err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// RunningMaps reads the launch plan of every running guest of the layout (a
// runtime directory whose lock is held). A running guest without a plan yet
// is one that a start not taking the idmap lock is launching; it is skipped.
func RunningMaps(l state.Layout) ([]Guest, error) {
	ents, err := os.ReadDir(l.GuestsRunDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list running guests: %w", err)
	}
	var out []Guest
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		held, err := state.Held(l.LockFile(name))
		if err != nil || !held {
			continue // not a guest, or a stale one: its ids are free
		}
		b, err := os.ReadFile(l.PlanFile(name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read launch plan of running guest %q: %w", name, err)
		}
		p, err := plan.Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("running guest %q: %w", name, err)
		}
		out = append(out, Guest{Name: p.Name, Root: l.Run, IDMap: p.IDMap})
	}
	return out, nil
}
