package netdef

import (
	"errors"
	"fmt"
	"sync"
)

// undoStack records how to remove what a set-up created, in creation order,
// and removes it in reverse (incus' revert pattern). run is idempotent: a
// step that succeeded is not run again, one that failed is retried by the
// next run. Safe for concurrent use.
type undoStack struct {
	mu    sync.Mutex // mu guards the fields below
	steps []undoStep
}

type undoStep struct {
	what string
	fn   func() error
	done bool
}

// add records fn as the way to remove what; fn must treat "already gone"
// as success.
func (u *undoStack) add(what string, fn func() error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.steps = append(u.steps, undoStep{what: what, fn: fn})
}

// run undoes every step not yet undone, newest first, and joins the errors.
func (u *undoStack) run() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	var errs []error
	for i := len(u.steps) - 1; i >= 0; i-- {
		st := &u.steps[i]
		if st.done {
			continue
		}
		if err := st.fn(); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", st.what, err))
			continue
		}
		st.done = true
	}
	return errors.Join(errs...)
}
