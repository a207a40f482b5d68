package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor"
	"vmlite/supervisor/client"
	"vmlite/supervisor/ctl"
)

// Domain is what the service knows of a guest: a list row, a lookup's
// answer.
type Domain struct {
	Name string `json:"name"`
	// UUID is empty for a guest known only by a runtime directory without
	// state yet (starting).
	UUID string `json:"uuid,omitempty"`
	// ID is positive while the guest runs (libvirt's id: its init's host
	// pid), 0 otherwise.
	ID         int          `json:"id,omitempty"`
	State      state.Status `json:"state"`
	Reason     state.Reason `json:"reason,omitempty"`
	Persistent bool         `json:"persistent"`
	Autostart  bool         `json:"autostart"`
	// StartedAt is when a running guest booted.
	StartedAt time.Time `json:"startedAt,omitzero"`
}

// Active reports whether the guest runs (or its init outlived a dead
// supervisor).
func (d *Domain) Active() bool { return d.ID > 0 }

// guest is what the disk says of a guest.
type guest struct {
	name    string
	defined bool
	// running: a supervisor holds the lock.
	running bool
	// orphaned: runtime state exists but no supervisor holds the lock.
	orphaned bool
	st       *state.State // state.json (running) or last/NAME.json
	plan     *plan.Plan   // plan.json of a running or orphaned guest
}

// supervisorAsk bounds the status request lookup sends when the state
// file cannot be trusted.
const supervisorAsk = 5 * time.Second

// lookup gathers what is known of name; ErrNotFound if nothing is.
func (s *Service) lookup(name string) (*guest, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	l := s.layout
	g := &guest{name: name}
	if _, err := os.Stat(l.DomainFile(name)); err == nil {
		g.defined = true
	}
	held, err := state.Held(l.LockFile(name))
	if err != nil {
		return nil, err
	}
	g.running = held
	st, serr := state.Read(l.StateFile(name))
	switch {
	case serr == nil:
		g.st = st
		if !held {
			g.orphaned = true
		}
	case held:
		// A running guest whose state.json is missing or unreadable (torn
		// by a full disk): its supervisor has the state (below).
	default:
		if st, err := state.Read(l.LastFile(name)); err == nil {
			g.st = st
		}
	}
	if held && (g.st == nil || g.st.Status == state.Starting || (g.st.InitPID > 0 && !supervisor.InitAlive(g.st))) {
		// state.json may lag behind (a write that failed on a full disk
		// and is being retried: "starting", or an init that a reboot
		// replaced): the supervisor's word wins.
		if resp, err := client.Call(l.ControlSocket(name), supervisor.Request{Op: supervisor.OpStatus}, supervisorAsk); err == nil {
			st := resp.State
			g.st = &st
		}
	}
	if b, err := os.ReadFile(l.PlanFile(name)); err == nil {
		if p, err := plan.Unmarshal(b); err == nil {
			g.plan = p
		}
	}
	if !g.defined && !g.running && !g.orphaned && g.st == nil {
		return nil, fmt.Errorf("guest %q: %w (see `vmlite list --all`)", name, errdefs.ErrNotFound)
	}
	return g, nil
}

// requireRunning returns the guest if its supervisor runs.
func (s *Service) requireRunning(name string) (*guest, error) {
	g, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	if g.orphaned {
		return nil, fmt.Errorf("guest %q: its supervisor is gone (killed?); `vmlite destroy %s` cleans up: %w", name, name, errdefs.ErrNotRunning)
	}
	if !g.running {
		return nil, fmt.Errorf("guest %q: %w", name, errdefs.ErrNotRunning)
	}
	return g, nil
}

// domainOf is the Domain row of g.
func (s *Service) domainOf(g *guest) Domain {
	d := Domain{Name: g.name, Persistent: g.defined, State: state.Shutoff}
	_, aerr := os.Stat(s.layout.AutostartFile(g.name))
	d.Autostart = aerr == nil
	// A stopped guest's last run may have had another uuid than its
	// definition has now (undefined and defined again): the definition's
	// wins (below).
	if g.st != nil && (g.running || g.orphaned || !g.defined) {
		d.UUID = g.st.UUID
	}
	if d.UUID == "" && g.plan != nil {
		d.UUID = g.plan.UUID
	}
	switch {
	case g.running && g.st != nil:
		d.State, d.ID, d.StartedAt = g.st.Status, g.st.InitPID, g.st.StartedAt
	case g.running:
		d.State = state.Starting
	case g.orphaned:
		d.State, d.Reason = state.Orphaned, "supervisor died"
		if g.st != nil {
			d.ID = g.st.InitPID
		}
	case g.st != nil:
		d.State, d.Reason = g.st.Status, g.st.Reason
	}
	if d.UUID == "" && g.defined {
		// Not a full Load: a list of N stopped guests would be N strict
		// parses (virsh list --all, bench/README.md).
		if id, err := domain.NewStore(s.layout).Identity(g.name); err == nil {
			d.UUID = id.UUID
		}
	}
	return d
}

// ListOptions choose the guests List returns.
type ListOptions struct {
	// All adds defined guests that do not run.
	All bool
}

// List returns running (and orphaned) guests, with All defined ones too,
// sorted by name.
func (s *Service) List(ctx context.Context, o ListOptions) ([]Domain, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	ents, err := os.ReadDir(s.layout.GuestsRunDir())
	if errors.Is(err, fs.ErrPermission) {
		// The runtime tree is root's (traversable, not listable): an empty
		// table would say "nothing runs", which is not what we know.
		return nil, classify(onDomain, fmt.Errorf("listing guests needs root: %s is root's; run `sudo vmlite list`: %w", s.layout.GuestsRunDir(), err))
	}
	for _, e := range ents {
		if e.IsDir() {
			names[e.Name()] = true
		}
	}
	if o.All {
		if ents, err := os.ReadDir(s.layout.DomainsDir()); err == nil {
			for _, e := range ents {
				if n, ok := strings.CutSuffix(e.Name(), ".xml"); ok && !strings.HasPrefix(n, ".") {
					names[n] = true
				}
			}
		}
	}
	var rows []Domain
	for n := range names {
		g, err := s.lookup(n)
		if err != nil {
			continue // a runtime dir vanishing under us: it just stopped
		}
		if !o.All && !g.running && !g.orphaned {
			continue
		}
		rows = append(rows, s.domainOf(g))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows, nil
}

// Listed is guest name's row as List with All has it, or false when List
// has none: one guest's files instead of every guest's, for a caller that
// keeps a list and knows which guest changed (serve's cache).
func (s *Service) Listed(ctx context.Context, name string) (*Domain, bool, error) {
	if err := live(ctx); err != nil {
		return nil, false, err
	}
	if err := validName(name); err != nil || strings.HasPrefix(name, ".") {
		return nil, false, nil
	}
	fi, err := os.Stat(s.layout.RunDir(name))
	running := err == nil && fi.IsDir()
	if _, err := os.Stat(s.layout.DomainFile(name)); err != nil && !running {
		return nil, false, nil
	}
	g, err := s.lookup(name)
	if err != nil {
		return nil, false, nil // as List: a runtime dir vanishing under us
	}
	d := s.domainOf(g)
	return &d, true, nil
}

// Lookup returns guest name.
func (s *Service) Lookup(ctx context.Context, name string) (*Domain, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	g, err := s.lookup(name)
	if err != nil {
		return nil, classify(onDomain, err)
	}
	d := s.domainOf(g)
	return &d, nil
}

// LookupByUUID returns the guest with uuid (any form domain.ParseUUID
// reads).
func (s *Service) LookupByUUID(ctx context.Context, uuid string) (*Domain, error) {
	want, err := domain.ParseUUID(uuid)
	if err != nil {
		return nil, classify(onDomain, fmt.Errorf("%w: uuid %q: %v", errdefs.ErrInvalid, uuid, err))
	}
	return s.find(ctx, fmt.Sprintf("uuid %s", want), func(d *Domain) bool {
		got, err := domain.ParseUUID(d.UUID)
		return err == nil && got == want
	})
}

// LookupByID returns the running guest with id.
func (s *Service) LookupByID(ctx context.Context, id int) (*Domain, error) {
	if id <= 0 {
		return nil, classify(onDomain, fmt.Errorf("%w: id %d: running guests have positive ids", errdefs.ErrInvalid, id))
	}
	return s.find(ctx, fmt.Sprintf("id %d", id), func(d *Domain) bool { return d.ID == id })
}

func (s *Service) find(ctx context.Context, what string, match func(*Domain) bool) (*Domain, error) {
	rows, err := s.List(ctx, ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	for i := range rows {
		if match(&rows[i]) {
			return &rows[i], nil
		}
	}
	return nil, classify(onDomain, fmt.Errorf("no guest with %s: %w", what, errdefs.ErrNotFound))
}

// call sends a control request to a running guest's supervisor. For stop
// and destroy it also waits for a dedicated supervisor to exit (ctl.Call),
// so that nothing of the guest is left when the operation returns.
func (s *Service) call(name string, req supervisor.Request) (*supervisor.Response, error) {
	return client.Call(s.layout.ControlSocket(name), req, ctl.CallWait(req))
}

// loadDefinition reads the stored definition of name.
func (s *Service) loadDefinition(name string) (*domain.Domain, []domain.Warning, error) {
	d, w, err := domain.ParseFile(s.layout.DomainFile(name))
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

// Running is a running guest's launch plan and state, for what the
// service leaves to its front ends (console and exec streams).
type Running struct {
	// Plan is nil, and State's InitPID 0, while the guest is starting.
	Plan  *plan.Plan
	State *state.State
}

// Running returns guest name if its supervisor runs (OperationInvalid if
// not, also when the supervisor died).
func (s *Service) Running(ctx context.Context, name string) (*Running, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	g, err := s.requireRunning(name)
	if err != nil {
		return nil, classify(onDomain, err)
	}
	return &Running{Plan: g.plan, State: g.st}, nil
}

// Guest is what the state files say of a guest, for front ends that need
// more than Domain (the RPC server's domain info).
type Guest struct {
	Name    string
	Defined bool
	// Running: a supervisor holds the guest's lock.
	Running bool
	// Orphaned: runtime state exists but no supervisor holds the lock.
	Orphaned bool
	State    *state.State // state.json (running) or the last run's
	Plan     *plan.Plan   // the launch plan of a running or orphaned guest
}

// Inspect returns what is known of guest name (NoDomain if nothing).
func (s *Service) Inspect(ctx context.Context, name string) (*Guest, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	g, err := s.lookup(name)
	if err != nil {
		return nil, classify(onDomain, err)
	}
	return &Guest{Name: g.name, Defined: g.defined, Running: g.running, Orphaned: g.orphaned, State: g.st, Plan: g.plan}, nil
}
