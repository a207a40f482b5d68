package service

import (
	"context"
	"time"

	"vmlite/cgroup"
	"vmlite/guestnet"
	"vmlite/procfs"
	"vmlite/state"
	"vmlite/supervisor"
)

// Status is a guest's state in detail (`vmlite status --json` prints it).
type Status struct {
	Name          string       `json:"name"`
	UUID          string       `json:"uuid,omitempty"`
	State         state.Status `json:"state"`
	Reason        state.Reason `json:"reason,omitempty"`
	Error         string       `json:"error,omitempty"`
	Persistent    bool         `json:"persistent"`
	SupervisorPID int          `json:"supervisorPid,omitempty"`
	// SharedSupervisor: the supervisor hosts other guests too.
	SharedSupervisor bool `json:"sharedSupervisor,omitempty"`
	// InitPID is also the guest's id while it runs.
	InitPID    int            `json:"initPid,omitempty"`
	StartedAt  *time.Time     `json:"startedAt,omitempty"`
	StoppedAt  *time.Time     `json:"stoppedAt,omitempty"`
	UptimeSec  float64        `json:"uptimeSeconds,omitempty"`
	ExitStatus *int           `json:"exitStatus,omitempty"`
	ExitSignal string         `json:"exitSignal,omitempty"`
	Restarts   int            `json:"restarts,omitempty"`
	Consoles   map[string]int `json:"consoleClients,omitempty"`
	// Cgroup is a running guest's cgroup below each hierarchy's root
	// (vmlite/PARTITION/NAME.ID).
	Cgroup string `json:"cgroup,omitempty"`
	// Resources are live cgroup counters of a running guest.
	Resources *cgroup.Stats `json:"resources,omitempty"`
	// Addresses of a running guest's interfaces (lo left out).
	Addresses []guestnet.IfaceAddr `json:"addresses,omitempty"`
	// ProcFiles says what a running guest reads in /proc/meminfo, cpuinfo,
	// ... (package procfs).
	ProcFiles string `json:"procFiles,omitempty"`
	// OOMKills of a stopped guest's last run.
	OOMKills uint64 `json:"oomKills,omitempty"`
}

// Status returns guest name's state: live from its supervisor when it
// runs, else what its last run left.
func (s *Service) Status(ctx context.Context, name string) (*Status, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	g, err := s.lookup(name)
	if err != nil {
		return nil, classify(onDomain, err)
	}
	r := &Status{Name: name, Persistent: g.defined, State: state.Shutoff}
	st := g.st
	if g.running {
		if resp, err := s.call(name, supervisor.Request{Op: supervisor.OpStatus}); err == nil {
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
		r.OOMKills = st.OOMKills
	}
	if (g.running || g.orphaned) && g.plan != nil {
		r.Cgroup, _ = cgroup.RelPath(g.plan.Cgroup)
		if m, err := cgroup.Open(g.plan.Cgroup); err == nil {
			if s, err := m.Stats(); err == nil {
				r.Resources = &s
				r.OOMKills = s.OOMKills
			}
		}
	}
	if g.running && g.plan != nil {
		r.ProcFiles = procfs.Status(g.plan.Paths.ProcFS, name)
	}
	if g.running && r.InitPID > 0 {
		if addrs, err := guestnet.GuestAddresses(r.InitPID, nil); err == nil {
			r.Addresses = addrs
		}
	}
	if g.orphaned {
		r.State, r.Reason, r.Error = state.Orphaned, "", "the supervisor died; `vmlite destroy "+name+"` cleans up"
	}
	if r.State == state.Running && r.StartedAt != nil {
		r.UptimeSec = time.Since(*r.StartedAt).Seconds()
	}
	if !g.running && !g.orphaned {
		r.SupervisorPID, r.InitPID, r.SharedSupervisor = 0, 0, false
	}
	return r, nil
}
