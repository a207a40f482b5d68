package cli

import (
	"errors"
	"os"

	"vmlite/state"
	"vmlite/supervisor"
)

// errNotOrphan means the guest has a live supervisor (or no state at all).
var errNotOrphan = errors.New("not orphaned")

// stopOrphan cleans up a guest whose supervisor died, under its lock.
func (a *App) stopOrphan(name string) error {
	g, err := a.lookupGuest(name)
	if err != nil {
		return err
	}
	if !g.Orphaned || g.Plan == nil {
		return errNotOrphan
	}
	lock, err := state.TryLock(a.Layout.LockFile(name))
	if errors.Is(err, state.ErrLocked) {
		return errNotOrphan // a supervisor appeared meanwhile
	}
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := supervisor.CleanupOrphan(g.Plan, g.State); err != nil {
		return err
	}
	return os.RemoveAll(a.Layout.RunDir(name))
}
