package main

import (
	"fmt"
	"strings"
)

// bootCPUTable writes where each density step's boot time went: one
// column per step (bootcpu.go).
func bootCPUTable(w *strings.Builder, ds []DensityResult) {
	var steps []DensityResult
	for _, d := range ds {
		if d.BootCPU != nil {
			steps = append(steps, d)
		}
	}
	if len(steps) == 0 {
		return
	}
	w.WriteString("\n### Where the mass boot's time goes (host CPU from the launch to the last boot, per booted guest)\n\n| figure |")
	for _, d := range steps {
		s := fmt.Sprintf("%s ×%d", d.Peer, d.N)
		switch {
		case d.MaxInFlight == seqInFlight:
			s += " seq"
		case d.MaxInFlight > 0:
			s += fmt.Sprintf(" ≤%d", d.MaxInFlight)
		}
		fmt.Fprintf(w, " %s |", s)
	}
	w.WriteString("\n|---|")
	for range steps {
		w.WriteString("---:|")
	}
	w.WriteString("\n")
	row := func(name, format string, f func(*BootCPU) float64) {
		fmt.Fprintf(w, "| %s |", name)
		for _, d := range steps {
			fmt.Fprintf(w, " "+format+" |", f(d.BootCPU))
		}
		w.WriteString("\n")
	}
	fmt.Fprintf(w, "| the peer's own CPU (cpuacct: start commands, supervisors or monitors, guests) ms / guest |")
	for _, d := range steps {
		if d.BootCPU.HasPeerCPU {
			fmt.Fprintf(w, " %.1f |", d.BootCPU.PeerMsPerGuest)
		} else {
			w.WriteString(" – |")
		}
	}
	w.WriteString("\n| … of it in the cgroups the guests (and monitors) moved to |")
	for _, d := range steps {
		if d.BootCPU.HasPeerCPU {
			fmt.Fprintf(w, " %.1f |", d.BootCPU.PeerGuestCgMsPerGuest)
		} else {
			w.WriteString(" – |")
		}
	}
	w.WriteString("\n")
	row("host-wide CPU (all sessions): user ms / guest", "%.1f", func(b *BootCPU) float64 { return b.UserMsPerGuest })
	row("host-wide CPU: system ms / guest", "%.1f", func(b *BootCPU) float64 { return b.SystemMsPerGuest })
	row("host-wide CPU: irq and softirq ms / guest", "%.1f", func(b *BootCPU) float64 { return b.IRQMsPerGuest })
	row("… of it the start commands' own (user + system)", "%.1f", func(b *BootCPU) float64 { return b.StartCmdMsPerGuest })
	row("CPUs idle in the window (%)", "%.1f", func(b *BootCPU) float64 { return b.IdlePct })
	row("first guest seen booted (s; markers are polled once the launch loop ends)", "%.2f", func(b *BootCPU) float64 { return b.FirstBootS })
	row("half the guests booted (s)", "%.2f", func(b *BootCPU) float64 { return b.MedianBootS })
	row("90 % booted (s)", "%.2f", func(b *BootCPU) float64 { return b.P90BootS })
}
