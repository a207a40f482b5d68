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
	// VirshAloneMs is `virsh -c test:///default version`: virsh's own
	// start, libvirt's in-process test driver, no daemon; what every
	// virsh command costs before it reaches one.
	VirshAloneMs Summary `json:"virshAloneMs"`
	// LoadAvg is /proc/loadavg at the end of the section.
	LoadAvg string   `json:"loadAvg"`
	Errors  []string `json:"errors,omitempty"`
}

// ServeSide is one daemon's figures.
type ServeSide struct {
	Daemon string `json:"daemon"` // "vmlite serve" or "libvirtd"
	// ListMs is `virsh list --all` (the table: LIST_ALL_DOMAINS, then a
	// GET_STATE per guest, one after the other) with Guests defined
	// guests. Results before 2026-12-03 held `list --all --name` here.
	ListMs Summary `json:"listAllMs"`
	// ListNameMs is `virsh list --all --name`: the LIST_ALL_DOMAINS alone.
	ListNameMs Summary `json:"listAllNameMs"`
	// VersionMs is `virsh version` (CONNECT_GET_TYPE and GET_VERSION): the
	// same virsh start, connection set-up and close as the list, with
	// calls the daemon answers at once: the list's floor on this daemon.
	VersionMs Summary `json:"versionMs"`
	// ListAboveFloorMs is, run by run, ListMs less VersionMs: the part
	// of the list that depends on the guests.
	ListAboveFloorMs Summary `json:"listAboveFloorMs"`
	// StateCallUs is one GET_STATE round trip, µs, of a go-libvirt client
	// making one per guest one after another, as virsh list does: the
	// daemon's time per call plus a lean client's (virsh's own time per
	// call is the rest of ListAboveFloorMs).
	StateCallUs Summary `json:"getStateRoundTripUs"`
	// ListVirshCPUMs and VersionVirshCPUMs are virsh's own CPU time
	// (rusage) in the list and its floor, AboveVirshCPUMs their
	// difference run by run: what virsh itself spends on the guests' calls,
	// which no daemon can take away. ListDaemonCPUMs is the daemon's CPU
	// time (its threads' schedstat) during the list.
	ListVirshCPUMs    Summary `json:"listVirshCPUMs"`
	VersionVirshCPUMs Summary `json:"versionVirshCPUMs"`
	AboveVirshCPUMs   Summary `json:"listAboveFloorVirshCPUMs"`
	ListDaemonCPUMs   Summary `json:"listDaemonCPUMs"`
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
	// Conn50DirtyKiB is the Private_Dirty part of Conn50USSKiB (heap,
	// stacks, data): the rest is clean file pages (code), private only
	// while no other process maps the same file.
	Conn50DirtyKiB Summary `json:"conns50PrivateDirtyKiB"`
}

// serveTables writes the serve section of the report.
func serveTables(w *strings.Builder, r *ServeResult) {
	fmt.Fprintf(w, "\n## libvirt daemon: vmlite serve against libvirtd (LXC driver), through the same virsh\n\n%d guests defined on each side; %d created at once; load %s at the end. virsh alone (`virsh -c test:///default version`, no daemon): %s ms.\n\n",
		r.Guests, r.Guests, r.LoadAvg, fmtSum(r.VirshAloneMs, ""))
	w.WriteString("| daemon | virsh list --all ms | list --all --name ms | virsh version ms (floor) | list above floor ms | GET_STATE round trip µs | start+destroy ms | start ms | destroy ms | parallel create s | USS idle KiB | USS, 50 connections KiB | of which private dirty KiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Sides {
		cf := ""
		if s.CreateFailures > 0 {
			cf = fmt.Sprintf(" (%d failed)", s.CreateFailures)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%s | %s | %s | %s |\n", s.Daemon, fmtSum(s.ListMs, ""), fmtSum(s.ListNameMs, ""),
			fmtSum(s.VersionMs, ""), fmtSum(s.ListAboveFloorMs, ""), fmtSum(s.StateCallUs, ""), fmtSum(s.CycleMs, ""),
			fmtSum(s.StartMs, ""), fmtSum(s.DestroyMs, ""), fmtSum(s.CreateAllS, ""), cf, fmtSum(s.IdleUSSKiB, ""), fmtSum(s.Conn50USSKiB, ""), fmtSum(s.Conn50DirtyKiB, ""))
	}
	w.WriteString("\nCPU time in `virsh list --all` (virsh's from its rusage, the daemon's from its threads' schedstat), ms:\n\n| daemon | virsh's CPU, list | virsh's CPU, version (floor) | virsh's CPU above the floor | the daemon's CPU per list |\n|---|---|---|---|---|\n")
	for _, s := range r.Sides {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", s.Daemon, fmtSum(s.ListVirshCPUMs, ""), fmtSum(s.VersionVirshCPUMs, ""),
			fmtSum(s.AboveVirshCPUMs, ""), fmtSum(s.ListDaemonCPUMs, ""))
	}
	if len(r.Sides) == 2 {
		vm, lv := r.Sides[0], r.Sides[1]
		w.WriteString("\n| vmlite serve / libvirtd (target: times at most 0.5, memory at most 1) | ratio |\n|---|---|\n")
		for _, x := range []struct {
			what string
			a, b Summary
		}{{"virsh list --all", vm.ListMs, lv.ListMs}, {"virsh list --all, above the virsh version floor", vm.ListAboveFloorMs, lv.ListAboveFloorMs},
			{"virsh list --all --name", vm.ListNameMs, lv.ListNameMs}, {"virsh version (the floor)", vm.VersionMs, lv.VersionMs},
			{"GET_STATE round trip (go-libvirt client)", vm.StateCallUs, lv.StateCallUs},
			{"the daemon's CPU per virsh list --all", vm.ListDaemonCPUMs, lv.ListDaemonCPUMs},
			{"start + destroy", vm.CycleMs, lv.CycleMs},
			{"parallel create", vm.CreateAllS, lv.CreateAllS}, {"USS idle", vm.IdleUSSKiB, lv.IdleUSSKiB},
			{"USS with 50 connections", vm.Conn50USSKiB, lv.Conn50USSKiB},
			{"private dirty with 50 connections", vm.Conn50DirtyKiB, lv.Conn50DirtyKiB}} {
			fmt.Fprintf(w, "| %s | %s |\n", x.what, fmtRatio(ratio(x.a, x.b)))
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "- error: `%s`\n", oneLine(e))
	}
}
