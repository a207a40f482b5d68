package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

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
	names := map[string]bool{}
	ents, err := os.ReadDir(a.Layout.GuestsRunDir())
	if errors.Is(err, fs.ErrPermission) {
		// The runtime tree is root's (traversable, not listable): an empty
		// table would say "nothing runs", which is not what we know.
		return nil, fmt.Errorf("listing guests needs root: %s is root's; run `sudo vmlite list`: %w", a.Layout.GuestsRunDir(), err)
	}
	for _, e := range ents {
		if e.IsDir() {
			names[e.Name()] = true
		}
	}
	if all {
		if ents, err := os.ReadDir(a.Layout.DomainsDir()); err == nil {
			for _, e := range ents {
				if n, ok := strings.CutSuffix(e.Name(), ".xml"); ok && !strings.HasPrefix(n, ".") {
					names[n] = true
				}
			}
		}
	}
	var rows []listEntry
	for n := range names {
		g, err := a.lookupGuest(n)
		if err != nil {
			continue // a runtime dir vanishing under us: it just stopped
		}
		r := listEntry{Name: n, Defined: g.Defined, State: state.Shutoff}
		_, aerr := os.Stat(a.Layout.AutostartFile(n))
		r.Autostart = aerr == nil
		switch {
		case g.Running && g.State != nil:
			r.State, r.InitPID = g.State.Status, g.State.InitPID
			if !g.State.StartedAt.IsZero() {
				d := time.Since(g.State.StartedAt)
				r.Uptime, r.UptimeSec = d.Round(time.Second).String(), d.Seconds()
			}
		case g.Running:
			r.State = state.Starting
		case g.Orphaned:
			r.State, r.Reason = state.Orphaned, "supervisor died"
			if g.State != nil {
				r.InitPID = g.State.InitPID
			}
		case g.State != nil:
			r.State, r.Reason = g.State.Status, g.State.Reason
		}
		if !all && !g.Running && !g.Orphaned {
			continue
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows, nil
}
