package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"vmlite/service"
	"vmlite/state"
)

func init() { register(newListCmd) }

// listEntry is one row of `vmlite list`.
type listEntry struct {
	Name      string       `json:"name"`
	State     state.Status `json:"state"`
	Reason    state.Reason `json:"reason,omitempty"`
	InitPID   int          `json:"initPid,omitempty"`
	Uptime    string       `json:"uptime,omitempty"`
	UptimeSec float64      `json:"uptimeSeconds,omitempty"`
	Defined   bool         `json:"persistent"`
	Autostart bool         `json:"autostart"`
}

func newListCmd(app *App) *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--all] [--json]",
		Short: "List running guests (with --all, defined ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rows, err := app.listGuests(all)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				if rows == nil {
					rows = []listEntry{}
				}
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATE\tINIT PID\tUPTIME")
			for _, r := range rows {
				pid := "-"
				if r.InitPID > 0 {
					pid = fmt.Sprint(r.InitPID)
				}
				st := string(r.State)
				if r.Reason != "" && r.State != state.Running {
					st += " (" + string(r.Reason) + ")"
				}
				up := r.Uptime
				if up == "" {
					up = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, st, pid, up)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "also list defined guests that are not running")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// listGuests collects running (and orphaned) guests, plus defined ones with all.
func (a *App) listGuests(all bool) ([]listEntry, error) {
	ds, err := a.Svc().List(a.ctx(), service.ListOptions{All: all})
	if err != nil {
		return nil, err
	}
	var rows []listEntry
	for _, d := range ds {
		r := listEntry{Name: d.Name, State: d.State, Reason: d.Reason, InitPID: d.ID, Defined: d.Persistent, Autostart: d.Autostart}
		if !d.StartedAt.IsZero() {
			up := time.Since(d.StartedAt)
			r.Uptime, r.UptimeSec = up.Round(time.Second).String(), up.Seconds()
		}
		rows = append(rows, r)
	}
	return rows, nil
}
