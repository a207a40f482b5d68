package cli

import (
	"fmt"

	"vmlite/domain"
	"vmlite/service"
)

// guestInfo is what the state files say of a guest.
type guestInfo = service.Guest

// lookupGuest gathers what is known of name; ErrNotFound if nothing is.
func (a *App) lookupGuest(name string) (*guestInfo, error) { return a.Svc().Inspect(a.ctx(), name) }

// printWarnings writes domain warnings to stderr.
func (a *App) printWarnings(ws []domain.Warning) {
	for _, w := range ws {
		fmt.Fprintf(a.Stderr, "warning: %s\n", w)
	}
}

// printNotes writes the warnings of a service operation to stderr.
func (a *App) printNotes(ws []string) {
	for _, w := range ws {
		fmt.Fprintf(a.Stderr, "vmlite: warning: %s\n", w)
	}
}
