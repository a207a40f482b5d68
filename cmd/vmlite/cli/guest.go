package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/launch"
	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor"
)

// guestInfo is what the CLI knows of a guest from disk.
type guestInfo struct {
	Name    string
	Defined bool
	// Running: a supervisor holds the lock.
	Running bool
	// Orphaned: runtime state exists but no supervisor holds the lock.
	Orphaned bool
	State    *state.State // state.json (running) or last/NAME.json
	Plan     *plan.Plan   // plan.json of a running or orphaned guest
}

// supervisorAsk bounds the status request lookupGuest sends when the
// state file cannot be trusted.
const supervisorAsk = 5 * time.Second

// lookupGuest gathers what is known of name; ErrNotFound if nothing is.
func (a *App) lookupGuest(name string) (*guestInfo, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	l := a.Layout
	g := &guestInfo{Name: name}
	if _, err := os.Stat(l.DomainFile(name)); err == nil {
		g.Defined = true
	}
	held, err := state.Held(l.LockFile(name))
	if err != nil {
		return nil, err
	}
	g.Running = held
	st, serr := state.Read(l.StateFile(name))
	switch {
	case serr == nil:
		g.State = st
		if !held {
			g.Orphaned = true
		}
	case held:
		// A running guest whose state.json is missing or unreadable (torn
		// by a full disk): its supervisor has the state (below).
	default:
		if st, err := state.Read(l.LastFile(name)); err == nil {
			g.State = st
		}
	}
	if held && (g.State == nil || g.State.Status == state.Starting || (g.State.InitPID > 0 && !supervisor.InitAlive(g.State))) {
		// state.json may lag behind (a write that failed on a full disk
		// and is being retried: "starting", or an init that a reboot
		// replaced): the supervisor's word wins.
		if resp, err := supervisor.Call(l.ControlSocket(name), supervisor.Request{Op: supervisor.OpStatus}, supervisorAsk); err == nil {
			st := resp.State
			g.State = &st
		}
	}
	if b, err := os.ReadFile(l.PlanFile(name)); err == nil {
		if p, err := plan.Unmarshal(b); err == nil {
			g.Plan = p
		}
	}
	if !g.Defined && !g.Running && !g.Orphaned && g.State == nil {
		return nil, fmt.Errorf("guest %q: %w (see `vmlite list --all`)", name, errdefs.ErrNotFound)
	}
	return g, nil
}

// requireRunning returns the guest if its supervisor runs.
func (a *App) requireRunning(name string) (*guestInfo, error) {
	g, err := a.lookupGuest(name)
	if err != nil {
		return nil, err
	}
	if g.Orphaned {
		return nil, fmt.Errorf("guest %q: its supervisor is gone (killed?); `vmlite destroy %s` cleans up: %w", name, name, errdefs.ErrNotRunning)
	}
	if !g.Running {
		return nil, fmt.Errorf("guest %q: %w", name, errdefs.ErrNotRunning)
	}
	return g, nil
}

// call sends a control request to a running guest's supervisor. For stop
// and destroy it also waits for the supervisor to exit, so that nothing of
// the guest is left when the command returns.
func (a *App) call(name string, req supervisor.Request) (*supervisor.Response, error) {
	wait := req.Timeout + 2*launch.DefaultStopTimeout
	resp, err := supervisor.Call(a.Layout.ControlSocket(name), req, wait)
	// A shared supervisor goes on hosting other guests; a dedicated one
	// exits right after its guest is torn down.
	if err == nil && !resp.State.SharedSupervisor && (req.Op == supervisor.OpStop || req.Op == supervisor.OpDestroy) {
		supervisor.WaitExit(resp.State.SupervisorPID, 10*time.Second)
	}
	return resp, err
}

// loadDefinition reads the stored definition of name.
func (a *App) loadDefinition(name string) (*domain.Domain, []domain.Warning, error) {
	d, w, err := domain.ParseFile(a.Layout.DomainFile(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("guest %q is not defined: %w (start a file with `vmlite start FILE.xml`, or `vmlite define FILE.xml` first)", name, errdefs.ErrNotFound)
	}
	return d, w, err
}

// validName refuses names that cannot be a guest (and would escape the
// state directories).
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%w: %q is not a guest name", errdefs.ErrInvalid, name)
	}
	return nil
}

// printWarnings writes domain warnings to stderr.
func (a *App) printWarnings(ws []domain.Warning) {
	for _, w := range ws {
		fmt.Fprintf(a.Stderr, "warning: %s\n", w)
	}
}
