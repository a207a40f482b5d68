package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"vmlite/cgroup"
	"vmlite/netdef"
	"vmlite/procfs"
	"vmlite/state"
	"vmlite/supervisor"
)

func init() { register(newStatusCmd) }

// statusReport is `vmlite status --json`.
type statusReport struct {
	Name          string       `json:"name"`
	UUID          string       `json:"uuid,omitempty"`
	State         state.Status `json:"state"`
	Reason        state.Reason `json:"reason,omitempty"`
	Error         string       `json:"error,omitempty"`
	Persistent    bool         `json:"persistent"`
	SupervisorPID int          `json:"supervisorPid,omitempty"`
	// SharedSupervisor: the supervisor hosts other guests too.
	SharedSupervisor bool           `json:"sharedSupervisor,omitempty"`
	InitPID          int            `json:"initPid,omitempty"`
	StartedAt        *time.Time     `json:"startedAt,omitempty"`
	StoppedAt        *time.Time     `json:"stoppedAt,omitempty"`
	UptimeSec        float64        `json:"uptimeSeconds,omitempty"`
	ExitStatus       *int           `json:"exitStatus,omitempty"`
	ExitSignal       string         `json:"exitSignal,omitempty"`
	Restarts         int            `json:"restarts,omitempty"`
	Consoles         map[string]int `json:"consoleClients,omitempty"`
	// Cgroup is a running guest's cgroup below each hierarchy's root
	// (vmlite/PARTITION/NAME.ID).
	Cgroup string `json:"cgroup,omitempty"`
	// Resources are live cgroup counters of a running guest.
	Resources *cgroup.Stats `json:"resources,omitempty"`
	// Addresses of a running guest's interfaces (lo left out).
	Addresses []netdef.IfaceAddr `json:"addresses,omitempty"`
	// ProcFiles says what a running guest reads in /proc/meminfo, cpuinfo,
	// ... (package procfs).
	ProcFiles string `json:"procFiles,omitempty"`
	// OOMKills of a stopped guest's last run.
	OOMKills uint64 `json:"oomKills,omitempty"`
}

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

func (a *App) status(name string) (*statusReport, error) {
	g, err := a.lookupGuest(name)
	if err != nil {
		return nil, err
	}
	r := &statusReport{Name: name, Persistent: g.Defined, State: state.Shutoff}
	st := g.State
	if g.Running {
		if resp, err := a.call(name, supervisor.Request{Op: supervisor.OpStatus}); err == nil {
			st = &resp.State
			r.Consoles = resp.Consoles
		}
	}
	if st != nil {
		r.UUID, r.State, r.Reason, r.Error = st.UUID, st.Status, st.Reason, st.Error
		r.SupervisorPID, r.InitPID, r.ExitStatus, r.ExitSignal, r.Restarts = st.SupervisorPID, st.InitPID, st.ExitStatus, st.ExitSignal, st.Restarts
		r.SharedSupervisor = st.SharedSupervisor
		if !st.StartedAt.IsZero() {
			t := st.StartedAt
			r.StartedAt = &t
		}
		if !st.StoppedAt.IsZero() {
			t := st.StoppedAt
			r.StoppedAt = &t
		}
	}
	if st != nil {
		r.OOMKills = st.OOMKills
	}
	if (g.Running || g.Orphaned) && g.Plan != nil {
		r.Cgroup, _ = cgroup.RelPath(g.Plan.Cgroup)
		if m, err := cgroup.Open(g.Plan.Cgroup); err == nil {
			if s, err := m.Stats(); err == nil {
				r.Resources = &s
				r.OOMKills = s.OOMKills
			}
		}
	}
	if g.Running && g.Plan != nil {
		r.ProcFiles = procfs.Status(g.Plan.Paths.ProcFS, name)
	}
	if g.Running && r.InitPID > 0 {
		if addrs, err := netdef.GuestAddresses(r.InitPID, nil); err == nil {
			r.Addresses = addrs
		}
	}
	if g.Orphaned {
		r.State, r.Reason, r.Error = state.Orphaned, "", "the supervisor died; `vmlite destroy "+name+"` cleans up"
	}
	if r.State == state.Running && r.StartedAt != nil {
		r.UptimeSec = time.Since(*r.StartedAt).Seconds()
	}
	if !g.Running && !g.Orphaned {
		r.SupervisorPID, r.InitPID, r.SharedSupervisor = 0, 0, false
	}
	return r, nil
}

func printStatus(app *App, r *statusReport) {
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
