package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"vmlite/domain"
	"vmlite/image"
	"vmlite/internal/errdefs"
	"vmlite/launch"
	"vmlite/netdef"
	"vmlite/state"
	"vmlite/supervisor"
	"vmlite/supervisor/client"
)

// Defined is the result of Define.
type Defined struct {
	Name, UUID string
	// Replaced is true when the name had a definition already.
	Replaced bool
	Warnings []domain.Warning
}

// Define validates the domain XML data (named source in messages) and
// stores it as a persistent definition, replacing one of the same name (a
// running guest keeps the definition it started with). A uuid that another
// guest has is refused. Warnings come back also when the XML is refused
// (with an XMLError whose cause is domain.Errors).
func (s *Service) Define(ctx context.Context, source string, data []byte) (*Defined, error) {
	return s.define(ctx, "", source, data)
}

// Edit replaces the stored definition of guest name with data (vmlite
// edit): Define, with its checks, store and event, for a guest that is
// defined already and keeps its name.
func (s *Service) Edit(ctx context.Context, name, source string, data []byte) (*Defined, error) {
	if err := validName(name); err != nil {
		return &Defined{}, classify(onDomain, err)
	}
	if _, err := os.Stat(s.layout.DomainFile(name)); err != nil {
		return &Defined{}, classify(onDomain, fmt.Errorf("guest %q is not defined: %w", name, errdefs.ErrNotFound))
	}
	return s.define(ctx, name, source, data)
}

// define is Define; a non-empty keep is the name the definition must have.
func (s *Service) define(ctx context.Context, keep, source string, data []byte) (*Defined, error) {
	d, warns, err := domain.Parse(source, data)
	res := &Defined{Warnings: warns}
	if err != nil {
		return res, classify(onDomain, err)
	}
	if keep != "" && d.XML.Name != keep {
		return res, classify(onDomain, fmt.Errorf("%w: %s: the edit renames guest %q to %q; an edit keeps the name (define the file to make a new guest)",
			errdefs.ErrInvalid, source, keep, d.XML.Name))
	}
	if err := live(ctx); err != nil {
		return res, err
	}
	_, serr := os.Stat(s.layout.DomainFile(d.XML.Name))
	res.Replaced = serr == nil
	if err := domain.NewStore(s.layout).Save(d); err != nil {
		return res, classify(onDomain, err)
	}
	res.Name, res.UUID = d.XML.Name, d.XML.UUID
	detail := DetailAdded
	if res.Replaced {
		detail = DetailUpdated
	}
	s.emit(Event{Name: res.Name, UUID: res.UUID, Type: EventDefined, Detail: detail})
	return res, nil
}

// UndefineOptions choose what Undefine removes besides the definition.
type UndefineOptions struct {
	// RemoveStorage also removes the guest's own copy-on-write layer (a
	// guest from an image) and the clone snapshots no other guest uses.
	RemoveStorage bool
}

// Undefine removes the stored definition of name and its autostart mark,
// and gives its addresses on managed networks back. A running guest is
// refused. The warnings are of what could not be cleaned up.
func (s *Service) Undefine(ctx context.Context, name string, o UndefineOptions) (warnings []string, err error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	// Path safety only: a definition stored under a name an older vmlite
	// allowed must stay removable.
	if err := validName(name); err != nil {
		return nil, classify(onDomain, err)
	}
	running, err := state.Held(s.layout.LockFile(name))
	if err != nil {
		return nil, classify(onDomain, err)
	}
	if running {
		return nil, classify(onDomain, fmt.Errorf("guest %q: %w: stop it first (vmlite stop %s), then undefine it", name, errdefs.ErrAlreadyRunning, name))
	}
	store := domain.NewStore(s.layout)
	d, err := store.Load(name)
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return nil, classify(onDomain, err)
	case err != nil:
		// A corrupted (truncated, hand-edited) definition must not be
		// stuck forever: remove it, and say what is lost.
		warnings = append(warnings, fmt.Sprintf("the definition of %q is not valid, removing it anyway (addresses it holds on managed networks stay reserved): %v", name, err))
	}
	if err := store.Delete(name); err != nil {
		return warnings, classify(onDomain, err)
	}
	uuid := ""
	if d != nil {
		uuid = d.XML.UUID
		// Its addresses on managed networks go back to the pool.
		if err := netdef.ReleaseGuest(s.layout, uuid); err != nil {
			warnings = append(warnings, fmt.Sprintf("release addresses of %q: %v", name, err))
		}
	}
	if err := os.Remove(s.layout.AutostartFile(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return warnings, classify(onDomain, fmt.Errorf("remove autostart mark of %q: %w", name, err))
	}
	if o.RemoveStorage {
		if err := image.NewStore(s.layout).RemoveGuestLayer(name); err != nil {
			return warnings, classify(onDomain, fmt.Errorf("undefined %q, but its layer stays: %w", name, err))
		}
	}
	s.emit(Event{Name: name, UUID: uuid, Type: EventUndefined, Detail: DetailRemoved})
	return warnings, nil
}

// Started is the result of Start and Create.
type Started struct {
	Name, UUID string
	// ID is the guest's id: its init's host pid.
	ID       int
	Warnings []domain.Warning
}

// Start boots the defined guest name. It returns once the guest's init
// runs; a failure names the set-up step (a *plan.StepFailure in the chain)
// and leaves nothing behind. A guest that runs is OperationInvalid.
func (s *Service) Start(ctx context.Context, name string) (*Started, error) {
	if err := validName(name); err != nil {
		return nil, classify(onDomain, err)
	}
	d, warns, err := s.loadDefinition(name)
	if err != nil {
		return &Started{Warnings: warns}, classify(onDomain, err)
	}
	return s.boot(ctx, d, warns, false)
}

// Create boots a transient guest from domain XML data (named source in
// messages), as virsh create does; a defined guest of the same name but
// another uuid is refused.
func (s *Service) Create(ctx context.Context, source string, data []byte) (*Started, error) {
	d, warns, err := domain.Parse(source, data)
	if err != nil {
		return &Started{Warnings: warns}, classify(onDomain, err)
	}
	return s.boot(ctx, d, warns, true)
}

func (s *Service) boot(ctx context.Context, d *domain.Domain, warns []domain.Warning, transient bool) (*Started, error) {
	res := &Started{Name: d.XML.Name, Warnings: warns}
	if err := live(ctx); err != nil {
		return res, err
	}
	per, err := s.guestsPer()
	if err != nil {
		return res, classify(onDomain, err)
	}
	stages, err := InitStages()
	if err != nil {
		return res, classify(onDomain, err)
	}
	prep, err := launch.Prepare(d, launch.Options{
		Layout: s.layout, Transient: transient,
		Networks: netdef.Resolver{Layout: s.layout},
		Images:   image.NewStore(s.layout),
		Orphans:  orphans{},
	})
	if err != nil {
		return res, classify(onDomain, err)
	}
	p := prep.Plan
	sr, err := s.launch(p, prep.JSON, prep.Lock, client.LaunchOptions{RunDir: s.layout.Run, GuestsPerSupervisor: per, InitStages: stages})
	prep.Launched()
	if err != nil {
		return res, classify(onDomain, err)
	}
	if f := sr.Err(); f != nil {
		return res, classify(onDomain, f.Reported(p.Source, p.Paths.SupervisorLog))
	}
	res.UUID, res.ID = p.UUID, sr.InitPID
	s.emit(Event{Name: res.Name, UUID: res.UUID, Type: EventStarted, Detail: DetailBooted, ID: res.ID})
	return res, nil
}

// Stopped is the result of Shutdown and Destroy.
type Stopped struct {
	// Forced: a graceful stop ran out of time and the guest was killed.
	Forced bool
	// Orphan: the guest's supervisor had died; what it left is cleaned up.
	Orphan bool
}

// Shutdown stops guest name through its init (the poweroff signal its
// init understands), kills what is left after timeout (0: the guest's
// vmlite:stop timeout, or 30s) and returns when nothing of it is left.
func (s *Service) Shutdown(ctx context.Context, name string, timeout time.Duration) (*Stopped, error) {
	return s.stop(ctx, name, supervisor.Request{Op: supervisor.OpStop, Timeout: timeout}, DetailShutdown)
}

// Destroy kills everything in guest name at once and removes its links,
// cgroup and runtime files; it also cleans up after a dead supervisor.
func (s *Service) Destroy(ctx context.Context, name string) (*Stopped, error) {
	return s.stop(ctx, name, supervisor.Request{Op: supervisor.OpDestroy}, DetailDestroyed)
}

// stop sends a stop or destroy request to the guest's supervisor. Only
// when none answers does it look further (one socket round trip is the
// common case, not two reads of the guest's state and plan first): a guest
// whose supervisor died is cleaned up, anything else gets the reason it is
// not running.
func (s *Service) stop(ctx context.Context, name string, req supervisor.Request, detail EventDetail) (*Stopped, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	if err := validName(name); err != nil {
		return nil, classify(onDomain, err)
	}
	resp, err := s.call(name, req)
	if err == nil {
		s.emit(Event{Name: name, UUID: resp.State.UUID, Type: EventStopped, Detail: detail})
		return &Stopped{Forced: resp.Forced}, nil
	}
	if !errors.Is(err, client.ErrNoSupervisor) {
		return nil, classify(onDomain, err)
	}
	if uuid, oerr := s.stopOrphan(name); oerr != errNotOrphan {
		if oerr != nil {
			return nil, classify(onDomain, oerr)
		}
		s.emit(Event{Name: name, UUID: uuid, Type: EventStopped, Detail: DetailDestroyed})
		return &Stopped{Orphan: true}, nil
	}
	if _, rerr := s.requireRunning(name); rerr != nil {
		return nil, classify(onDomain, rerr)
	}
	return nil, classify(onDomain, err)
}

// errNotOrphan means the guest has a live supervisor (or no state at all).
var errNotOrphan = errors.New("not orphaned")

// stopOrphan cleans up a guest whose supervisor died, under its lock, and
// returns its uuid.
func (s *Service) stopOrphan(name string) (string, error) {
	s.removeLeftovers(name)
	g, err := s.lookup(name)
	if err != nil {
		return "", err
	}
	if !g.orphaned || g.plan == nil {
		return "", errNotOrphan
	}
	lock, err := state.TryLock(s.layout.LockFile(name))
	if errors.Is(err, state.ErrLocked) {
		return "", errNotOrphan // a supervisor appeared meanwhile
	}
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := supervisor.CleanupOrphan(g.plan, g.st); err != nil {
		return "", err
	}
	return g.plan.UUID, os.RemoveAll(s.layout.RunDir(name))
}

// removeLeftovers removes the runtime directory of a start that never got
// as far as a supervisor (killed, or failed before the hand-over): a free
// lock and no state file. Taken under the lock, so a start that holds it
// is never touched.
func (s *Service) removeLeftovers(name string) {
	l := s.layout
	if _, err := os.Stat(l.RunDir(name)); err != nil {
		return
	}
	lock, err := state.TryLock(l.LockFile(name))
	if err != nil {
		return
	}
	defer lock.Close()
	if _, err := os.Stat(l.StateFile(name)); err == nil {
		return // a supervisor's: an orphan, cleaned up as such
	}
	_ = os.RemoveAll(l.RunDir(name))
}

// Reboot asks guest name's init to reboot, kills it after timeout (0: as
// Shutdown) and boots it again with the same definition. It returns the
// new id once the guest runs again.
func (s *Service) Reboot(ctx context.Context, name string, timeout time.Duration) (id int, err error) {
	if err := live(ctx); err != nil {
		return 0, err
	}
	if _, err := s.requireRunning(name); err != nil {
		return 0, classify(onDomain, err)
	}
	resp, err := s.call(name, supervisor.Request{Op: supervisor.OpReboot, Timeout: timeout})
	if err != nil {
		return 0, classify(onDomain, err)
	}
	s.emit(Event{Name: name, UUID: resp.State.UUID, Type: EventRebooted, ID: resp.State.InitPID})
	return resp.State.InitPID, nil
}

// SetAutostart marks (or unmarks) the defined guest name to be started by
// StartAutostarted at host boot.
func (s *Service) SetAutostart(ctx context.Context, name string, on bool) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := validName(name); err != nil {
		return classify(onDomain, err)
	}
	if _, _, err := s.loadDefinition(name); err != nil {
		// libvirt: "Cannot set autostart for transient domain".
		return classify(onDomain, s.transientErr(name, err, "cannot set autostart for a transient domain; fix: define it first (vmlite define, virsh define)"))
	}
	mark := s.layout.AutostartFile(name)
	if !on {
		if err := os.Remove(mark); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return classify(onDomain, fmt.Errorf("remove autostart mark: %w", err))
		}
		return nil
	}
	if err := s.layout.Ensure(); err != nil {
		return classify(onDomain, err)
	}
	if err := os.WriteFile(mark, nil, 0o644); err != nil {
		return classify(onDomain, fmt.Errorf("write autostart mark: %w", err))
	}
	return nil
}

// Failures are the guests (or "networks") an operation on many could not
// handle, by name.
type Failures map[string]error

func (f Failures) Error() string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// StartAutostarted starts every autostart network, then every autostart
// guest that is not running, one after another. started gets each guest
// started; the failures ("networks" for the networks) do not stop the rest.
func (s *Service) StartAutostarted(ctx context.Context, started func(*Started)) Failures {
	failed := Failures{}
	if err := netdef.StartAutostart(s.layout); err != nil {
		failed["networks"] = classify(onNetwork, err)
	}
	marks, _ := filepath.Glob(filepath.Join(filepath.Dir(s.layout.AutostartFile("x")), "*"))
	sort.Strings(marks)
	for _, m := range marks {
		name := filepath.Base(m)
		if g, err := s.lookup(name); err == nil && g.running {
			continue
		}
		res, err := s.Start(ctx, name)
		if err != nil {
			failed[name] = err
			continue
		}
		if started != nil {
			started(res)
		}
	}
	return failed
}

// StopAll stops every running guest at once, each as Shutdown does with
// timeout, and cleans up guests whose supervisor died. stopped gets the
// name of each guest stopped, from several goroutines.
func (s *Service) StopAll(ctx context.Context, timeout time.Duration, stopped func(name string)) (Failures, error) {
	rows, err := s.List(ctx, ListOptions{})
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := Failures{}
	for _, r := range rows {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			_, err := s.Shutdown(ctx, name, timeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed[name] = err
				return
			}
			if stopped != nil {
				stopped(name)
			}
		}(r.Name)
	}
	wg.Wait()
	return failed, nil
}

// Suspend freezes every process of guest name (its cgroup's freezer);
// Resume lets them run again.
func (s *Service) Suspend(ctx context.Context, name string) error {
	return s.pause(ctx, name, supervisor.OpSuspend, EventSuspended)
}

// Resume lets a suspended guest run again.
func (s *Service) Resume(ctx context.Context, name string) error {
	return s.pause(ctx, name, supervisor.OpResume, EventResumed)
}

func (s *Service) pause(ctx context.Context, name string, op supervisor.Op, t EventType) error {
	if err := live(ctx); err != nil {
		return err
	}
	if _, err := s.requireRunning(name); err != nil {
		return classify(onDomain, err)
	}
	resp, err := s.call(name, supervisor.Request{Op: op})
	if err != nil {
		return classify(onDomain, fmt.Errorf("guest %q: %w", name, err))
	}
	s.emit(Event{Name: name, UUID: resp.State.UUID, Type: t, ID: resp.State.InitPID})
	return nil
}
