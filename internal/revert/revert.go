// Package revert is a rollback stack for multi-step set-up (incus's pattern):
//
//	r := revert.New()
//	defer r.Fail()           // undoes everything unless Success was called
//	x, err := create()
//	if err != nil { return err }
//	r.Add("remove x", x.Remove)
//	...
//	r.Success()
//
// Undo functions run in reverse order and must be idempotent (a thing that
// is already gone counts as removed), so the same functions also serve the
// normal teardown (Undo). With KeepFailed, an undo function that failed
// stays on the stack, and the next Undo tries it again (what a link or
// bridge that was busy at the first attempt needs).
package revert

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Reverter holds undo functions. It is safe for concurrent use.
type Reverter struct {
	keepFailed bool
	mu         sync.Mutex // mu guards the fields below
	steps      []step
	done       bool
}

// Option changes how a Reverter undoes.
type Option func(*Reverter)

// KeepFailed keeps a failed undo function for the next Undo.
func KeepFailed(r *Reverter) { r.keepFailed = true }

type step struct {
	name string
	fn   func() error
}

// New returns an empty Reverter.
func New(opts ...Option) *Reverter {
	r := &Reverter{}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Add registers an undo function under a name used in error messages.
func (r *Reverter) Add(name string, fn func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, step{name, fn})
}

// Success keeps everything: a later Fail does nothing. Undo still works.
func (r *Reverter) Success() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = true
}

// Fail undoes everything unless Success was called. Errors are returned joined.
func (r *Reverter) Fail() error {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done {
		return nil
	}
	return r.Undo()
}

// Undo runs every undo function in reverse order and returns their errors
// joined. Each function is dropped after it ran, unless it failed and the
// Reverter keeps failed ones (KeepFailed).
func (r *Reverter) Undo() error {
	r.mu.Lock()
	steps := r.steps
	r.steps = nil
	r.mu.Unlock()
	var errs []error
	var failed []step // newest first
	for i := len(steps) - 1; i >= 0; i-- {
		if err := steps[i].fn(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", steps[i].name, err))
			failed = append(failed, steps[i])
		}
	}
	if r.keepFailed && len(failed) > 0 {
		slices.Reverse(failed)
		r.mu.Lock()
		// Steps added while this Undo ran are newer than the failed ones.
		r.steps = append(failed, r.steps...)
		r.mu.Unlock()
	}
	return errors.Join(errs...)
}
