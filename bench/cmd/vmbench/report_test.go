package main

import (
	"strings"
	"testing"
)

func TestMarkdownSections(t *testing.T) {
	s := func(x float64) Summary { return Summary{Median: x, Min: x, Max: x, N: 1} }
	cyc := func(peer, set string, stop float64) PeerCycles {
		return PeerCycles{Peer: peer, Set: set, StartMarker: s(700), StopGone: s(stop), InitOwn: s(stop / 2)}
	}
	debian := &Results{
		DebianPeers:  []string{"vmlite", "nspawn"},
		DebianState:  map[string]string{"vmlite": "running", "nspawn": "degraded (failed: x.service)"},
		DebianCycles: []PeerCycles{cyc("vmlite", "graceful", 180), cyc("nspawn", "graceful", 200)},
		DebianMemory: []PeerMemory{{Peer: "vmlite", Supervisor: "vmlite __supervise", SupUSS: s(9000)}, {Peer: "nspawn", Supervisor: "systemd-nspawn", SupUSS: s(6000)}},
		Bonnie: &BonnieResult{Command: "bonnie++ -d DIR -s 3G", Figures: []BonnieFigure{
			{Name: "block write", Unit: "MiB/s", Host: s(100), Guest: s(95), DeltaPct: -5, Paired: s(-4)},
			{Name: "block read", Unit: "MiB/s"},
		}},
	}
	tests := []struct {
		name      string
		r         *Results
		want, not []string
	}{
		{"debian and bonnie only", debian, []string{
			"## Start and graceful stop (Debian/systemd guest)",
			"vmlite: running; nspawn: degraded (failed: x.service);",
			"| stop → supervisor and init gone (ms) | 180.0 / 180.0 / 180.0 | 200.0 / 200.0 / 200.0 | 0.90 |",
			"| stop → ExecStop's shutdown marker (ms) |",
			"systemd's own shutdown",
			"## Memory per Debian/systemd guest",
			"| supervisor USS | 9000 / 9000 / 9000 | 6000 / 6000 / 6000 | 1.50 |",
			"| block write (MiB/s) | 100.0 / 100.0 / 100.0 | 95.00 / 95.00 / 95.00 | -5.0% | -4.0% / -4.0% / -4.0% |",
			"| block read (MiB/s) | – | – | – (too fast for bonnie++ to time) | – |",
		}, []string{"busybox guest", "rcK"}},
		{"density breakdown", &Results{Density: []DensityResult{
			{Peer: "vmlite", N: 50, Booted: 50, PerGuestKiB: 900, LoadAvg: "0.50 0.40 0.30", Breakdown: &MemBreakdown{
				Meminfo: []KiBDelta{{"MemAvailable", 900}, {"MemFree", 950}}, SlabTop: []KiBDelta{{"kmalloc-64", 12.5}}, RunTmpfsKiB: 8}},
			{Peer: "lxc", N: 50, Booted: 50, PerGuestKiB: 600, LoadAvg: "0.60 0.40 0.30", Breakdown: &MemBreakdown{
				Meminfo: []KiBDelta{{"MemAvailable", 600}, {"MemFree", 700}}, SlabTop: []KiBDelta{{"dentry", 3}}, RunTmpfsKiB: -1}},
		}}, []string{
			"| figure | vmlite ×50 | lxc ×50 | vmlite − lxc ×50 |",
			"| load average (1, 5, 15 min) at the sample | 0.50 0.40 0.30 | 0.60 0.40 0.30 | |",
			"| host: MemTotal − MemAvailable | 900 | 600 | +300 |",
			"| MemFree (decrease) | 950 | 700 | +250 |",
			"| runtime dir's tmpfs (in Shmem) | 8 | – | – |",
			"| kmalloc-64 | 12.5 | – |",
			"| dentry | – | 3.0 |",
		}, nil},
		{"boot time", &Results{Density: []DensityResult{
			{Peer: "vmlite", N: 200, Booted: 200, BootCPU: &BootCPU{HasPeerCPU: true, PeerMsPerGuest: 40, UserMsPerGuest: 30, SystemMsPerGuest: 25.5, StartCmdMsPerGuest: 12, IdlePct: 3, FirstBootS: 0.2, MedianBootS: 3, P90BootS: 5.5}},
			{Peer: "lxc", N: 200, Booted: 200, MaxInFlight: 64, BootCPU: &BootCPU{UserMsPerGuest: 8, SystemMsPerGuest: 14}},
		}}, []string{
			"### Where the mass boot's time goes",
			"| figure | vmlite ×200 | lxc ×200 ≤64 |",
			"| host-wide CPU: system ms / guest | 25.5 | 14.0 |",
			"| the peer's own CPU (cpuacct: start commands, supervisors or monitors, guests) ms / guest | 40.0 | – |",
			"| … of it the start commands' own (user + system) | 12.0 | 0.0 |",
			"| 90 % booted (s) | 5.50 | 0.00 |",
		}, []string{"Where each guest's host memory goes"}},
		{"busybox only", &Results{Peers: []string{"vmlite", "lxc"}, Cycles: []PeerCycles{cyc("vmlite", "forced", 30), cyc("lxc", "forced", 15)}},
			[]string{"## Start and forced stop (busybox guest)", "| 30.00 / 30.00 / 30.00 | 15.00 / 15.00 / 15.00 | 2.00 |"},
			[]string{"Debian", "bonnie++"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := markdown(tt.r)
			for _, w := range tt.want {
				if !strings.Contains(md, w) {
					t.Errorf("missing %q in\n%s", w, md)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(md, n) {
					t.Errorf("unexpected %q in\n%s", n, md)
				}
			}
		})
	}
}
