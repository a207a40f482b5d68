package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"vmlite/service"
	"vmlite/state"
)

func init() { register(newStatusCmd) }

func newStatusCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status NAME [--json]",
		Short: "Show a guest's state (and why), pids, uptime and console clients",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := app.status(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			printStatus(app, r)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// status is the service's Status of guest name.
func (a *App) status(name string) (*service.Status, error) { return a.Svc().Status(a.ctx(), name) }

func printStatus(app *App, r *service.Status) {
	w := app.Stdout
	fmt.Fprintf(w, "Name:        %s\n", r.Name)
	if r.UUID != "" {
		fmt.Fprintf(w, "UUID:        %s\n", r.UUID)
	}
	st := string(r.State)
	if r.Reason != "" {
		st += " (" + string(r.Reason) + ")"
	}
	fmt.Fprintf(w, "State:       %s\n", st)
	if r.Error != "" {
		fmt.Fprintf(w, "Detail:      %s\n", r.Error)
	}
	fmt.Fprintf(w, "Persistent:  %v\n", r.Persistent)
	if r.InitPID > 0 {
		fmt.Fprintf(w, "Init PID:    %d\n", r.InitPID)
		shared := ""
		if r.SharedSupervisor {
			shared = " (shared)"
		}
		fmt.Fprintf(w, "Supervisor:  %d%s\n", r.SupervisorPID, shared)
	}
	if r.UptimeSec > 0 {
		fmt.Fprintf(w, "Uptime:      %v\n", (time.Duration(r.UptimeSec) * time.Second).Round(time.Second))
	}
	if r.ExitStatus != nil && r.State != state.Running {
		if r.ExitSignal != "" {
			fmt.Fprintf(w, "Init ended:  killed by %s\n", r.ExitSignal)
		} else {
			fmt.Fprintf(w, "Init ended:  exit status %d\n", *r.ExitStatus)
		}
	}
	if r.Restarts > 0 {
		fmt.Fprintf(w, "Restarts:    %d\n", r.Restarts)
	}
	if r.Cgroup != "" {
		fmt.Fprintf(w, "Cgroup:      %s\n", r.Cgroup)
	}
	for name, n := range r.Consoles {
		fmt.Fprintf(w, "Console:     %s, %d client(s)\n", name, n)
	}
	for _, a := range r.Addresses {
		if a.CIDR != "" {
			fmt.Fprintf(w, "Address:     %s %s (%s)\n", a.Name, a.CIDR, a.MAC)
		}
	}
	if r.Resources != nil {
		for _, f := range r.Resources.Fields() {
			fmt.Fprintf(w, "%-12s %s\n", f.Name+":", f.Value)
		}
		if r.ProcFiles != "" {
			fmt.Fprintf(w, "%-12s %s\n", "/proc files:", r.ProcFiles)
		}
	} else if r.OOMKills > 0 {
		fmt.Fprintf(w, "OOM kills:   %d (last run)\n", r.OOMKills)
	}
}
