// Package errdefs holds the error classes shared by every vmlite package.
//
// Wrap them with context (fmt.Errorf("guest %q: %w", name, errdefs.ErrNotFound))
// and test them with errors.Is. The CLI maps user-facing classes to exit status 2
// (see IsUserError); everything else is exit status 1.
package errdefs

import "errors"

// Error classes. Each is a sentinel: wrap it, never compare error strings.
var (
	// ErrInvalid is a user error: a bad flag, bad XML, an impossible value.
	ErrInvalid = errors.New("invalid argument")
	// ErrNotFound is returned for an unknown guest, network or file.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists is returned when a name or UUID is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrAlreadyRunning is returned by start for a guest that runs.
	ErrAlreadyRunning = errors.New("already running")
	// ErrNotRunning is returned by stop, console, exec for a guest that does not run.
	ErrNotRunning = errors.New("not running")
)

// UserError marks errors that are the user's to fix (exit status 2).
// domain.Errors implements it, so does any error wrapping a class above.
type UserError interface {
	error
	UserError() bool
}

// IsUserError reports whether err is the user's to fix: exit status 2.
func IsUserError(err error) bool {
	var ue UserError
	if errors.As(err, &ue) && ue.UserError() {
		return true
	}
	for _, e := range []error{ErrInvalid, ErrNotFound, ErrAlreadyExists, ErrAlreadyRunning, ErrNotRunning} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
