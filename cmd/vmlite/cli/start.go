package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/image"
	"vmlite/internal/errdefs"
	"vmlite/launch"
	"vmlite/netdef"
	"vmlite/supervisor"
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
	name := d.XML.Name
	prep, err := launch.Prepare(d, launch.Options{Layout: app.Layout, Transient: transient, Names: netdef.Names{}, Networks: netdef.Resolver{Layout: app.Layout}, Images: image.NewStore(app.Layout)})
	if err != nil {
		return err
	}
	p := prep.Plan
	res, err := supervisor.Launch(p, prep.JSON, prep.Lock, supervisor.LaunchOptions{RunDir: app.Layout.Run, GuestsPerSupervisor: per})
	prep.Launched()
	if err != nil {
		return err
	}
	if err := res.Err(); err != nil {
		return err.Reported(p.Source, p.Paths.SupervisorLog)
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
