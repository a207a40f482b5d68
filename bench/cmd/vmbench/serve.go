package main

import (
	"fmt"
	"strings"
)

// ServeResult is the serve section: `vmlite serve` against libvirtd's LXC
// driver, both driven by the same virsh, in one run taking turns.
type ServeResult struct {
	// Guests is how many guests were defined on each side for the list,
	// and created at once for the parallel create.
	Guests int         `json:"guests"`
	Sides  []ServeSide `json:"sides"`
	// LoadAvg is /proc/loadavg at the end of the section.
	LoadAvg string   `json:"loadAvg"`
	Errors  []string `json:"errors,omitempty"`
}

// ServeSide is one daemon's figures.
type ServeSide struct {
	Daemon string `json:"daemon"` // "vmlite serve" or "libvirtd"
	// ListMs is `virsh list --all` with Guests defined guests.
	ListMs Summary `json:"listAllMs"`
	// CycleMs is `virsh start` plus `virsh destroy` of a defined guest;
	// StartMs and DestroyMs its two halves.
	CycleMs   Summary `json:"startDestroyCycleMs"`
	StartMs   Summary `json:"startMs"`
	DestroyMs Summary `json:"destroyMs"`
	// CreateAllS is Guests `virsh create` run at once, until the last
	// returned; CreateFailures how many failed.
	CreateAllS     Summary `json:"parallelCreateS"`
	CreateFailures int     `json:"parallelCreateFailures"`
	// The daemon's USS in KiB with the guests defined: idle, and with 50
	// client connections open.
	IdleUSSKiB   Summary `json:"idleUSSKiB"`
	Conn50USSKiB Summary `json:"conns50USSKiB"`
}

// serveTables writes the serve section of the report.
func serveTables(w *strings.Builder, r *ServeResult) {
	fmt.Fprintf(w, "\n## libvirt daemon: vmlite serve against libvirtd (LXC driver), through the same virsh\n\n%d guests defined on each side; %d created at once; load %s at the end.\n\n",
		r.Guests, r.Guests, r.LoadAvg)
	w.WriteString("| daemon | virsh list --all ms | start+destroy ms | start ms | destroy ms | parallel create s | USS idle KiB | USS, 50 connections KiB |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Sides {
		cf := ""
		if s.CreateFailures > 0 {
			cf = fmt.Sprintf(" (%d failed)", s.CreateFailures)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s%s | %s | %s |\n", s.Daemon, fmtSum(s.ListMs, ""), fmtSum(s.CycleMs, ""),
			fmtSum(s.StartMs, ""), fmtSum(s.DestroyMs, ""), fmtSum(s.CreateAllS, ""), cf, fmtSum(s.IdleUSSKiB, ""), fmtSum(s.Conn50USSKiB, ""))
	}
	if len(r.Sides) == 2 {
		vm, lv := r.Sides[0], r.Sides[1]
		w.WriteString("\n| vmlite serve / libvirtd (target: times at most 0.5, memory at most 1) | ratio |\n|---|---|\n")
		for _, x := range []struct {
			what string
			a, b Summary
		}{{"virsh list --all", vm.ListMs, lv.ListMs}, {"start + destroy", vm.CycleMs, lv.CycleMs},
			{"parallel create", vm.CreateAllS, lv.CreateAllS}, {"USS idle", vm.IdleUSSKiB, lv.IdleUSSKiB},
			{"USS with 50 connections", vm.Conn50USSKiB, lv.Conn50USSKiB}} {
			fmt.Fprintf(w, "| %s | %s |\n", x.what, fmtRatio(ratio(x.a, x.b)))
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "- error: `%s`\n", oneLine(e))
	}
}
