package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// write stores the results as JSON and markdown under o.out, named after
// the run's start time, and the markdown also as latest.md.
func (b *bench) write() error {
	if err := os.MkdirAll(b.o.out, 0o755); err != nil {
		return err
	}
	stamp := b.began.UTC().Format("20060102-1504")
	js, err := json.MarshalIndent(jsonSafe(b.res), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.o.out, stamp+".json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	md := markdown(&b.res)
	if err := os.WriteFile(filepath.Join(b.o.out, stamp+".md"), []byte(md), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.o.out, "latest.md"), []byte(md), 0o644)
}

// jsonSafe round-trips the results through a generic value, so that the
// file's keys come out sorted within each object.
func jsonSafe(r Results) any {
	var v any
	b, err := json.Marshal(r)
	if err != nil {
		return r
	}
	_ = json.Unmarshal(b, &v)
	return v
}

func fmtSum(s Summary, unit string) string {
	if s.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%s / %s / %s%s", num(s.Median), num(s.Min), num(s.Max), unit)
}

func num(x float64) string {
	switch {
	case math.Abs(x) >= 1000:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 100:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return fmt.Sprintf("%.2f", x)
}

// markdown renders the results: machine, versions, then one table per
// section with vmlite's ratio to every reference (median over median).
func markdown(r *Results) string {
	var w strings.Builder
	fmt.Fprintf(&w, "# vmbench results, %s\n\n", r.Date)
	m := r.Machine
	fmt.Fprintf(&w, "| machine | |\n|---|---|\n")
	fmt.Fprintf(&w, "| cores | %d |\n| kernel | %s |\n| distribution | %s |\n| cgroup mode | %s |\n| memory | %d MiB |\n| PID 1 | %s |\n| load average (start / end) | %s / %s |\n| harness | %s, %d runs after %d warm-up, memory sampled %d ms after the marker |\n| elapsed | %.1f min |\n\n",
		m.Cores, m.Kernel, m.Distro, m.CgroupMode, m.MemTotalMB, m.PID1, m.LoadStart, m.LoadEnd, m.GoVersion, r.Runs, r.Warmup, r.SettleMs, m.ElapsedMin)
	fmt.Fprintf(&w, "| peer | versions |\n|---|---|\n")
	for _, p := range r.Peers {
		var vs []string
		for k, v := range r.Versions[p] {
			vs = append(vs, k+" "+v)
		}
		fmt.Fprintf(&w, "| %s | %s |\n", p, strings.Join(sorted(vs), ", "))
	}
	w.WriteString("\nFigures are median / min / max. Ratios are vmlite's median over the reference's median (< 1: vmlite is faster or smaller).\n")
	refs := refsOf(r.Peers)

	if len(r.Cycles) > 0 {
		cycleTables(&w, r.Peers, refs, r.Cycles, "busybox guest", "rcK's", "busybox init's")
	}
	if len(r.Memory) > 0 {
		memoryTable(&w, "Memory per guest (KiB, /proc/PID/smaps_rollup, one guest running)", r.Peers, refs, r.Memory)
	}
	if len(r.DebianCycles) > 0 {
		w.WriteString("\n## Debian 12 / systemd guest\n\nThe marker is a oneshot unit ordered after multi-user.target (it writes /marker/booted); its ExecStop writes /marker/shutdown, the first thing systemd does on poweroff. \"guest init exec'd\" is the first open of the rootfs's /usr/lib/systemd/systemd. vmlite boots it without a user namespace and with CAP_SYS_ADMIN kept (as LXC and nspawn do); vmlite-idmap with the template's default idmap.\n")
		if len(r.DebianState) > 0 {
			w.WriteString("\nsystemd's state after a boot (`systemctl is-system-running --wait` through vmlite exec, lxc-attach, nsenter):")
			for _, p := range r.DebianPeers {
				fmt.Fprintf(&w, " %s: %s;", p, oneLine(r.DebianState[p]))
			}
			w.WriteString("\n")
		}
		drefs := refsOf(r.DebianPeers)
		cycleTables(&w, r.DebianPeers, drefs, r.DebianCycles, "Debian/systemd guest", "ExecStop's", "systemd's")
		if len(r.DebianMemory) > 0 {
			memoryTable(&w, "Memory per Debian/systemd guest (KiB, one guest running)", r.DebianPeers, drefs, r.DebianMemory)
		}
	}

	if len(r.StartProfile) > 0 {
		w.WriteString("\n## Where vmlite's start goes (strace -f --seccomp-bpf, ms; tracing inflates every phase a little)\n\n| phase |")
		for _, p := range r.StartProfile {
			fmt.Fprintf(&w, " %s |", p.Peer)
		}
		w.WriteString("\n|---|")
		for range r.StartProfile {
			w.WriteString("---|")
		}
		w.WriteString("\n")
		for i, name := range phaseNames {
			fmt.Fprintf(&w, "| %s |", name)
			for _, p := range r.StartProfile {
				if i < len(p.Phases) {
					fmt.Fprintf(&w, " %s |", fmtSum(p.Phases[i].Ms, ""))
				} else {
					w.WriteString(" – |")
				}
			}
			w.WriteString("\n")
		}
	}

	if len(r.Density) > 0 {
		w.WriteString("\n## Density (busybox guests launched back to back, or one after another, then all destroyed at once)\n\n")
		w.WriteString("| peer | N | booted | failures | launch s | all booted s | host mem delta MiB | host KiB / guest | … less per-CPU free pages | tree PSS KiB / guest | destroy all s | vmlite/peer: all booted | vmlite/peer: KiB/guest (less per-CPU free) |\n")
		w.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		type step struct{ n, inFlight int }
		vm := map[step]DensityResult{}
		for _, d := range r.Density {
			if d.Peer == "vmlite" {
				vm[step{d.N, d.MaxInFlight}] = d
			}
		}
		for _, d := range r.Density {
			rb, rm := "–", "–"
			if v, ok := vm[step{d.N, d.MaxInFlight}]; ok && d.Peer != "vmlite" && d.AllBootedS > 0 && d.PerGuestKiB > 0 {
				rb = fmtRatio(v.AllBootedS / d.AllBootedS)
				rm = fmtRatio(v.PerGuestKiB / d.PerGuestKiB)
				if a, ok1 := netHostKiB(v); ok1 {
					if b, ok2 := netHostKiB(d); ok2 && b > 0 {
						rm += " (" + fmtRatio(a/b) + ")"
					}
				}
			}
			net := "–"
			if x, ok := netHostKiB(d); ok {
				net = fmt.Sprintf("%.0f", x)
			}
			n := strconv.Itoa(d.N)
			switch {
			case d.MaxInFlight == seqInFlight:
				n += " (one after another)"
			case d.MaxInFlight > 0:
				n += fmt.Sprintf(" (≤ %d starts at once)", d.MaxInFlight)
			}
			fmt.Fprintf(&w, "| %s | %s | %d | %d | %.2f | %.2f | %.1f | %.0f | %s | %.0f | %.2f | %s | %s |\n",
				d.Peer, n, d.Booted, d.Failures, d.LaunchS, d.AllBootedS, d.MemDeltaMiB, d.PerGuestKiB, net, d.PSSPerGuestKiB, d.StopAllS, rb, rm)
		}
		bootCPUTable(&w, r.Density)
		breakdownTables(&w, r.Density)
		for _, d := range r.Density {
			for _, e := range d.Errors {
				fmt.Fprintf(&w, "\n%s x %d: `%s`\n", d.Peer, d.N, oneLine(e))
			}
		}
	}

	if len(r.Console) > 0 {
		w.WriteString("\n## Console\n\n| path | bytes | throughput MB/s | keystroke echo ms | relay CPU ms per MB | what |\n|---|---|---|---|---|---|\n")
		for _, c := range r.Console {
			if c.Error != "" {
				fmt.Fprintf(&w, "| %s | | | | | error: `%s` |\n", c.Path, oneLine(c.Error))
				continue
			}
			fmt.Fprintf(&w, "| %s | %d | %s | %s | %s | %s |\n", c.Path, c.Bytes, fmtSum(c.MBPerS, ""), fmtSum(c.EchoMs, ""), fmtSum(c.RelayCPUMsPerMB, ""), c.Description)
		}
		byPath := map[string]ConsoleResult{}
		for _, c := range r.Console {
			byPath[c.Path] = c
		}
		if vm, ok := byPath["vmlite console"]; ok && vm.Error == "" {
			w.WriteString("\n| vmlite console against | throughput ratio (> 1: vmlite faster) | echo latency ratio (< 1: vmlite faster) | relay CPU per MB ratio (< 1: vmlite cheaper) |\n|---|---|---|---|\n")
			for _, c := range r.Console {
				if c.Path == "vmlite console" || c.Path == "vmlite logs" || c.Error != "" {
					continue
				}
				fmt.Fprintf(&w, "| %s | %s | %s | %s |\n", c.Path, fmtRatio(ratio(vm.MBPerS, c.MBPerS)), fmtRatio(ratio(vm.EchoMs, c.EchoMs)), fmtRatio(ratio(vm.RelayCPUMsPerMB, c.RelayCPUMsPerMB)))
			}
		}
	}
	if len(r.Workloads) > 0 {
		w.WriteString("\n## Workloads: a vmlite guest against the host (the seed tables' kind), seconds\n\n| workload | host | guest | guest delta |\n|---|---|---|---|\n")
		for _, x := range r.Workloads {
			fmt.Fprintf(&w, "| %s | %s | %s | %+.1f%% |\n", x.Name, fmtSum(x.HostS, ""), fmtSum(x.GuestS, ""), x.DeltaPct)
		}
	}
	if r.ProcFS != nil {
		procfsTables(&w, r.ProcFS)
	}
	if r.Serve != nil {
		serveTables(&w, r.Serve)
	}
	if r.Bonnie != nil {
		bonnieTable(&w, r.Bonnie)
	}
	if r.Images != nil {
		imagesTables(&w, r.Images)
	}
	if len(r.Notes) > 0 {
		w.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&w, "- %s\n", oneLine(n))
		}
	}
	if len(r.Leftovers) > 0 {
		w.WriteString("\n## Left behind by a peer and removed by the harness\n\n")
		for _, n := range r.Leftovers {
			fmt.Fprintf(&w, "- %s\n", n)
		}
	}
	return w.String()
}

func header(w *strings.Builder, peers, refs []string) {
	w.WriteString("| |")
	for _, p := range peers {
		fmt.Fprintf(w, " %s |", p)
	}
	for _, ref := range refs {
		fmt.Fprintf(w, " vmlite/%s |", ref)
	}
	w.WriteString("\n|---|")
	for range append(append([]string{}, peers...), refs...) {
		w.WriteString("---|")
	}
	w.WriteString("\n")
}

func refsOf(peers []string) []string {
	var out []string
	for _, p := range peers {
		if p != "vmlite" {
			out = append(out, p)
		}
	}
	return out
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func sorted(xs []string) []string {
	sort.Strings(xs)
	return xs
}

// cycleTables writes the forced and graceful tables of one guest kind;
// shutdownBy and ownBy name what writes the shutdown marker and whose
// shutdown follows it.
func cycleTables(w *strings.Builder, peers, refs []string, cycles []PeerCycles, guestKind, shutdownBy, ownBy string) {
	for _, set := range []string{"forced", "graceful"} {
		rows := []struct {
			label string
			get   func(PeerCycles) Summary
		}{
			{"start → guest init exec'd (ms)", func(c PeerCycles) Summary { return c.StartExec }},
			{"start → marker (ms)", func(c PeerCycles) Summary { return c.StartMarker }},
			{"start → command returns (ms)", func(c PeerCycles) Summary { return c.StartReturn }},
			{"stop → command returns (ms)", func(c PeerCycles) Summary { return c.StopReturn }},
			{"stop → supervisor and init gone (ms)", func(c PeerCycles) Summary { return c.StopGone }},
		}
		if set == "graceful" {
			rows = append(rows, []struct {
				label string
				get   func(PeerCycles) Summary
			}{
				{"stop → " + shutdownBy + " shutdown marker (ms)", func(c PeerCycles) Summary { return c.ShutdownMarker }},
				{ownBy + " own shutdown: marker → init exits (ms)", func(c PeerCycles) Summary { return c.InitOwn }},
				{"manager's part of the stop: total − init's own (ms)", func(c PeerCycles) Summary { return c.ManagerOverhead }},
			}...)
		}
		fmt.Fprintf(w, "\n## Start and %s stop (%s)\n\n", set, guestKind)
		cyc := map[string]PeerCycles{}
		for _, c := range cycles {
			if c.Set == set {
				cyc[c.Peer] = c
			}
		}
		header(w, peers, refs)
		for _, row := range rows {
			fmt.Fprintf(w, "| %s |", row.label)
			for _, p := range peers {
				c := cyc[p]
				if c.Unsupported != "" {
					w.WriteString(" unsupported |")
					continue
				}
				fmt.Fprintf(w, " %s |", fmtSum(row.get(c), ""))
			}
			for _, ref := range refs {
				fmt.Fprintf(w, " %s |", fmtRatio(ratio(row.get(cyc["vmlite"]), row.get(cyc[ref]))))
			}
			w.WriteString("\n")
		}
		fmt.Fprintf(w, "| failures |")
		for _, p := range peers {
			fmt.Fprintf(w, " %d |", cyc[p].Failures)
		}
		for range refs {
			w.WriteString(" |")
		}
		w.WriteString("\n")
		for _, p := range peers {
			c := cyc[p]
			if c.Unsupported != "" {
				fmt.Fprintf(w, "\n%s, graceful: unsupported: %s.\n", p, c.Unsupported)
			}
			for _, e := range c.Errors {
				fmt.Fprintf(w, "\n%s, %s: error: `%s`\n", p, set, oneLine(e))
			}
		}
	}

}

// memoryTable writes one memory table under heading.
func memoryTable(w *strings.Builder, heading string, peers, refs []string, mems []PeerMemory) {
	fmt.Fprintf(w, "\n## %s\n\n", heading)
	mem := map[string]PeerMemory{}
	for _, x := range mems {
		mem[x.Peer] = x
	}
	header(w, peers, refs)
	fmt.Fprintf(w, "| supervisor process |")
	for _, p := range peers {
		fmt.Fprintf(w, " %s |", mem[p].Supervisor)
	}
	for range refs {
		w.WriteString(" |")
	}
	w.WriteString("\n")
	rows := []struct {
		label string
		get   func(PeerMemory) Summary
	}{
		{"supervisor USS", func(x PeerMemory) Summary { return x.SupUSS }},
		{"supervisor PSS", func(x PeerMemory) Summary { return x.SupPSS }},
		{"supervisor Private_Dirty (heap, stacks)", func(x PeerMemory) Summary { return x.SupDirty }},
		{"guest init USS", func(x PeerMemory) Summary { return x.InitUSS }},
		{"guest init PSS", func(x PeerMemory) Summary { return x.InitPSS }},
		{"whole tree USS", func(x PeerMemory) Summary { return x.TreeUSS }},
		{"whole tree PSS", func(x PeerMemory) Summary { return x.TreePSS }},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "| %s |", row.label)
		for _, p := range peers {
			fmt.Fprintf(w, " %s |", fmtSum(row.get(mem[p]), ""))
		}
		for _, ref := range refs {
			fmt.Fprintf(w, " %s |", fmtRatio(ratio(row.get(mem["vmlite"]), row.get(mem[ref]))))
		}
		w.WriteString("\n")
	}
}

// bonnieTable writes bonnie++'s figures, host against guest.
func bonnieTable(w *strings.Builder, b *BonnieResult) {
	fmt.Fprintf(w, "\n## bonnie++: a vmlite Debian guest against the host\n\n`%s`, taking turns; median / min / max.\n\n", b.Command)
	w.WriteString("| figure | host | guest | guest delta (medians) | guest delta run by run |\n|---|---|---|---|---|\n")
	for _, f := range b.Figures {
		delta := "– (too fast for bonnie++ to time)"
		if f.Host.N > 0 && f.Guest.N > 0 {
			delta = fmt.Sprintf("%+.1f%%", f.DeltaPct)
		}
		paired := "–"
		if f.Paired.N > 0 {
			paired = fmt.Sprintf("%+.1f%% / %+.1f%% / %+.1f%%", f.Paired.Median, f.Paired.Min, f.Paired.Max)
		}
		fmt.Fprintf(w, "| %s (%s) | %s | %s | %s | %s |\n", f.Name, f.Unit, fmtSum(f.Host, ""), fmtSum(f.Guest, ""), delta, paired)
	}
	for _, e := range b.Errors {
		fmt.Fprintf(w, "\nerror: `%s`\n", oneLine(e))
	}
}

func procfsTables(w *strings.Builder, r *ProcFSResult) {
	fmt.Fprintf(w, "\n## /proc files: vmlite's server, LXCFS, the kernel (%d reads each: open, read, close), µs\n\n| file | server | mean | p50 | p99 |\n|---|---|---|---|---|\n", r.Reads)
	for _, l := range r.Latency {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", l.File, l.Server, num(l.MeanUs), num(l.P50Us), num(l.P99Us))
	}
	w.WriteString("\n## /proc servers' memory by guests served, KiB\n\n| guests | vmlite RSS | vmlite PSS | vmlite USS | vmlite private dirty | LXCFS RSS | LXCFS PSS | LXCFS USS | LXCFS private dirty | every answer right |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range r.Memory {
		fmt.Fprintf(w, "| %d | %d | %d | %d | %d | %d | %d | %d | %d | %v |\n", m.Guests, m.VmliteRSS, m.VmlitePSS, m.VmliteUSS, m.VmliteDirty, m.LxcfsRSS, m.LxcfsPSS, m.LxcfsUSS, m.LxcfsDirty, m.AllCorrect)
	}
}
