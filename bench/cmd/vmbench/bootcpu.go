package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// BootCPU is where a mass boot's time went: the host's CPU time between
// the launch and the last boot, per booted guest, split as /proc/stat
// splits it; how much of the window the CPUs idled (a boot that waits on
// a lock idles, one that computes does not); the start commands' own CPU
// (the CLI alone for vmlite, whose supervisors are not its children); and
// when the guests booted, as fractions of the launch-to-last-boot window
// would hide: the first, median and 90th percentile boot.
type BootCPU struct {
	UserMsPerGuest   float64 `json:"userMsPerGuest"`
	SystemMsPerGuest float64 `json:"systemMsPerGuest"`
	// IRQMsPerGuest is irq and softirq time.
	IRQMsPerGuest float64 `json:"irqMsPerGuest"`
	// IdlePct is idle (and iowait) time over the window's CPU time.
	IdlePct float64 `json:"idlePct"`
	// StartCmdMsPerGuest is the start commands' user and system time
	// (getrusage of each reaped command and its reaped children).
	StartCmdMsPerGuest float64 `json:"startCmdMsPerGuest"`
	// PeerMsPerGuest is the CPU time the peer's own processes spent
	// (cpuacct: its start commands, supervisors or monitors and the
	// guests), whatever else ran on the host; PeerGuestCgMsPerGuest the
	// part charged to the cgroups its guests (and monitors) moved to.
	// HasPeerCPU says they were measured (a v1 cpuacct hierarchy).
	PeerMsPerGuest        float64 `json:"peerMsPerGuest,omitempty"`
	PeerGuestCgMsPerGuest float64 `json:"peerGuestCgroupsMsPerGuest,omitempty"`
	HasPeerCPU            bool    `json:"hasPeerCpu,omitempty"`
	FirstBootS            float64 `json:"firstBootS"`
	MedianBootS           float64 `json:"medianBootS"`
	P90BootS              float64 `json:"p90BootS"`
}

// hostTicks is the first line of /proc/stat: cumulative ticks of all CPUs.
type hostTicks struct {
	user, nice, system, idle, iowait, irq, softirq, steal int64
}

// parseCPUStat reads the "cpu" line of /proc/stat's text.
func parseCPUStat(s string) (hostTicks, error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return hostTicks{}, fmt.Errorf("/proc/stat: no cpu line in %q", line)
	}
	var v [8]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return hostTicks{}, fmt.Errorf("/proc/stat: %q: %w", line, err)
		}
		v[i] = n
	}
	return hostTicks{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]}, nil
}

// bootCPU computes a BootCPU from the samples before the launch and at the
// last boot, the start commands' summed CPU and each booted guest's boot
// time since the launch.
func bootCPU(before, after hostTicks, booted int, startCmds time.Duration, boots []time.Duration) *BootCPU {
	if booted <= 0 {
		return nil
	}
	ms := func(ticks int64) float64 { return float64(ticks) * 1000 / clockTicks / float64(booted) }
	b := &BootCPU{
		UserMsPerGuest:     ms(after.user + after.nice - before.user - before.nice),
		SystemMsPerGuest:   ms(after.system - before.system),
		IRQMsPerGuest:      ms(after.irq + after.softirq - before.irq - before.softirq),
		StartCmdMsPerGuest: float64(startCmds.Microseconds()) / 1000 / float64(booted),
	}
	idle := after.idle + after.iowait - before.idle - before.iowait
	all := idle + after.user + after.nice + after.system + after.irq + after.softirq + after.steal -
		(before.user + before.nice + before.system + before.irq + before.softirq + before.steal)
	if all > 0 {
		b.IdlePct = 100 * float64(idle) / float64(all)
	}
	if len(boots) > 0 {
		s := append([]time.Duration(nil), boots...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		at := func(q float64) float64 { return s[int(q*float64(len(s)-1))].Seconds() }
		b.FirstBootS, b.MedianBootS, b.P90BootS = at(0), at(0.5), at(0.9)
	}
	return b
}
