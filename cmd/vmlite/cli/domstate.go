package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"vmlite/state"
)

func init() { register(newDomStateCmd) }

const domstateLong = `Print the state of guest NAME in virsh's words: running, in shutdown, shut
off, paused (vmlite suspend) or crashed (a guest whose supervisor died is
crashed). --reason adds
virsh's reason in parentheses: booted, shutdown, destroyed, crashed, failed
or unknown.`

func newDomStateCmd(app *App) *cobra.Command {
	var reason bool
	cmd := &cobra.Command{
		Use:   "domstate NAME",
		Short: "Print a guest's state as virsh domstate does",
		Long:  domstateLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			d, err := app.Svc().Lookup(app.ctx(), args[0])
			if err != nil {
				return err
			}
			st, why := virshState(d.State, d.Reason)
			if reason {
				fmt.Fprintf(app.Stdout, "%s (%s)\n", st, why)
			} else {
				fmt.Fprintln(app.Stdout, st)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&reason, "reason", false, "also print the reason for the state")
	return cmd
}

// virshState maps vmlite's state and reason to virsh's state name and
// reason (virsh's vshDomainStateToString and ...StateReasonToString).
func virshState(s state.Status, r state.Reason) (string, string) {
	switch s {
	case state.Running, state.Starting:
		return "running", "booted"
	case state.Paused:
		return "paused", "user"
	case state.Stopping:
		return "in shutdown", "user"
	case state.Crashed:
		return "crashed", "unknown"
	case state.Orphaned:
		return "crashed", "unknown"
	}
	switch r {
	case state.ReasonShutdown, state.ReasonDestroyed, state.ReasonCrashed, state.ReasonFailed:
		return "shut off", string(r)
	}
	return "shut off", "unknown"
}
