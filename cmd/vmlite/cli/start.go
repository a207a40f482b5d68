package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/launch"
	"vmlite/netdef"
	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor"
	"vmlite/uidmap"
)

func init() { register(newStartCmd) }

func newStartCmd(app *App) *cobra.Command {
	var attach bool
	cmd := &cobra.Command{
		Use:     "start FILE|NAME",
		Aliases: []string{"create"}, // virsh create FILE
		Short:   "Boot a defined guest, or a transient one from a domain XML file",
		Long: `Boot a guest. NAME starts a guest stored with 'vmlite define'; FILE (a path
to a domain XML file) starts a transient guest, as 'virsh create' does.

start returns once the guest's init runs. A failure names the set-up step
and the XML element it came from, and leaves nothing behind.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStart(app, args[0], attach)
		},
	}
	cmd.Flags().BoolVar(&attach, "console", false, "attach to the console right after boot (no output is missed)")
	return cmd
}

// isFileArg tells a file argument from a guest name: a path separator or an
// .xml suffix means a file.
func isFileArg(arg string) bool {
	return strings.ContainsRune(arg, '/') || strings.HasSuffix(arg, ".xml")
}

func runStart(app *App, arg string, attach bool) error {
	var (
		d         *domain.Domain
		warnings  []domain.Warning
		err       error
		transient = isFileArg(arg)
	)
	per, err := guestsPerSupervisor()
	if err != nil {
		return err
	}
	if transient {
		if _, serr := os.Stat(arg); serr != nil {
			return fmt.Errorf("%w: %s: no such file", errdefs.ErrNotFound, arg)
		}
		d, warnings, err = domain.ParseFile(arg)
	} else {
		d, warnings, err = app.loadDefinition(arg)
	}
	app.printWarnings(warnings)
	if err != nil {
		return err
	}
	if err := app.Layout.Ensure(); err != nil {
		return err
	}
	name := d.XML.Name
	if transient {
		if err := checkTransientClash(app, d); err != nil {
			return err
		}
	}
	p, err := launch.Build(d, launch.Options{Layout: app.Layout, Transient: transient, Names: netdef.Names{}})
	if err != nil {
		return err
	}
	if err := checkTraversable(p); err != nil {
		return err
	}
	// Guests on managed networks: their bridge, and an address from the
	// network's range when the XML gives none.
	if err := netdef.ResolveNetworkInterfaces(app.Layout, p.UUID, p.Interfaces); err != nil {
		return err
	}
	lock, err := app.lockForStart(name)
	if err != nil {
		return err
	}
	if err := reserveIDs(app, p); err != nil {
		// The runtime directory was made for the lock: ours to remove
		// while we hold it (nothing else was made yet).
		_ = os.RemoveAll(app.Layout.RunDir(name))
		lock.Close()
		return err
	}
	res, err := supervisor.Launch(p, lock, supervisor.LaunchOptions{RunDir: app.Layout.Run, GuestsPerSupervisor: per})
	if err != nil {
		return err
	}
	if !res.OK {
		return startError(p, res)
	}
	fmt.Fprintf(app.Stdout, "Guest %s started (init pid %d)\n", name, res.InitPID)
	if attach {
		return app.attachConsole(name, "console0")
	}
	return nil
}

// defaultGuestsPerSupervisor is how many guests share one supervisor
// process unless VMLITE_GUESTS_PER_SUPERVISOR says otherwise: enough to
// make a supervisor's Go runtime a small share of each guest's memory,
// few enough that a supervisor that dies orphans a bounded set of guests.
const defaultGuestsPerSupervisor = 32

// guestsPerSupervisor reads VMLITE_GUESTS_PER_SUPERVISOR (1: a dedicated
// supervisor process per guest).
func guestsPerSupervisor() (int, error) {
	v := os.Getenv("VMLITE_GUESTS_PER_SUPERVISOR")
	if v == "" {
		return defaultGuestsPerSupervisor, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 4096 {
		return 0, fmt.Errorf("%w: VMLITE_GUESTS_PER_SUPERVISOR=%q: want a number from 1 (a supervisor per guest) to 4096", errdefs.ErrInvalid, v)
	}
	return n, nil
}

// lockForStart creates the runtime directory and takes the guest's lock:
// of two concurrent starts exactly one gets it. Stale state of a dead
// supervisor is cleaned first (or refused, while the guest still runs).
func (a *App) lockForStart(name string) (*os.File, error) {
	l := a.Layout
	if err := os.MkdirAll(l.RunDir(name), state.RunDirMode); err != nil {
		return nil, fmt.Errorf("create runtime directory: %w", err)
	}
	lock, err := state.TryLock(l.LockFile(name))
	if errors.Is(err, state.ErrLocked) {
		return nil, fmt.Errorf("guest %q: %w", name, errdefs.ErrAlreadyRunning)
	}
	if err != nil {
		return nil, err
	}
	if _, serr := os.Stat(l.StateFile(name)); serr == nil {
		// A runtime directory with state but a free lock: its supervisor died.
		g, _ := a.lookupGuest(name)
		if g != nil && g.Plan != nil && supervisor.OrphanAlive(g.Plan, g.State) {
			lock.Close()
			return nil, fmt.Errorf("guest %q still runs without its supervisor (killed?); `vmlite destroy %s` stops it: %w", name, name, errdefs.ErrAlreadyRunning)
		}
		if g != nil && g.Plan != nil {
			if err := supervisor.CleanupOrphan(g.Plan, g.State); err != nil {
				lock.Close()
				return nil, fmt.Errorf("clean up stale state of %q: %w", name, err)
			}
		}
		_ = os.Remove(l.StateFile(name))
	}
	return lock, nil
}

// checkTransientClash refuses a transient guest whose name belongs to a
// defined guest with another UUID (virsh create does the same).
func checkTransientClash(app *App, d *domain.Domain) error {
	stored, _, err := app.loadDefinition(d.XML.Name)
	if err != nil {
		return nil // not defined: no clash
	}
	if d.XML.UUID != "" && stored.XML.UUID != "" && !strings.EqualFold(stored.XML.UUID, d.XML.UUID) {
		return fmt.Errorf("guest %q is already defined with uuid %s: %w", d.XML.Name, stored.XML.UUID, errdefs.ErrAlreadyExists)
	}
	if d.XML.UUID == "" {
		d.XML.UUID = stored.XML.UUID
	}
	return nil
}

// startFailure is a start error reported by the supervisor.
type startFailure struct {
	res  plan.StartResult
	file string
	log  string
}

func (e *startFailure) Error() string {
	var b strings.Builder
	b.WriteString("start failed")
	if e.res.Step != "" {
		fmt.Fprintf(&b, " at step %q", e.res.Step)
	}
	if e.res.XMLPath != "" {
		fmt.Fprintf(&b, " (%s", e.res.XMLPath)
		if e.file != "" {
			fmt.Fprintf(&b, " in %s", e.file)
		}
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.res.Error)
	if !e.res.User {
		fmt.Fprintf(&b, "\n(details: %s)", e.log)
	}
	return b.String()
}

// UserError marks failures that are the XML's or the rootfs's (exit 2).
func (e *startFailure) UserError() bool { return e.res.User }

func startError(p *plan.Plan, res plan.StartResult) error {
	return &startFailure{res: res, file: p.Source, log: p.Paths.SupervisorLog}
}

// checkTraversable makes sure a mapped guest's root can reach its root
// attach point in the runtime directory: every ancestor must be o+x.
func checkTraversable(p *plan.Plan) error {
	if !p.IDMap.Enabled() || p.Rootfs.Path == "" {
		return nil
	}
	for dir := filepath.Dir(p.Paths.RunDir); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err == nil && fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%w: %s (mode %v) is not traversable by the guest's mapped root; fix: chmod o+x %s, or use another --root",
				errdefs.ErrInvalid, dir, fi.Mode().Perm(), dir)
		}
		if dir == "/" || dir == "." {
			return nil
		}
	}
}

// reserveIDs checks p's host ids against every running guest's and records
// them in p's runtime directory (plan.json, which the supervisor rewrites
// with the same plan), all under the host-wide idmap lock. The guest's own
// lock is held already, so a concurrent start counts p as running: the
// idmap lock covers the check and the record, not the whole launch, and
// starts of many guests at once do not queue behind each other's boots.
func reserveIDs(app *App, p *plan.Plan) error {
	release, err := uidmap.CheckRunning(app.Layout, p)
	if err != nil {
		return err
	}
	defer release()
	if !p.IDMap.Enabled() {
		return nil
	}
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	return state.WriteRuntimeFile(p.Paths.PlanFile, b, 0o600)
}
