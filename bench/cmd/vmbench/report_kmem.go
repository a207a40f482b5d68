package main

import (
	"fmt"
	"strconv"
	"strings"
)

// breakdownTables writes where each density step's host memory went, per
// guest, with a column per step and, for each reference step that has a
// vmlite step of the same size, vmlite's excess over it.
func breakdownTables(w *strings.Builder, ds []DensityResult) {
	var steps []DensityResult
	for _, d := range ds {
		if d.Breakdown != nil {
			steps = append(steps, d)
		}
	}
	if len(steps) == 0 {
		return
	}
	label := func(d DensityResult) string {
		s := d.Peer + " ×" + strconv.Itoa(d.N)
		if d.MaxInFlight == seqInFlight {
			s += " seq"
		}
		return s
	}
	type diff struct{ vm, ref DensityResult }
	var diffs []diff
	// Each reference step against the last vmlite step of its size before
	// it (-density 50,50 repeats both).
	for i, ref := range steps {
		if strings.HasPrefix(ref.Peer, "vmlite") {
			continue
		}
		for j := i - 1; j >= 0; j-- {
			if vm := steps[j]; vm.Peer == "vmlite" && vm.N == ref.N && vm.MaxInFlight == ref.MaxInFlight {
				diffs = append(diffs, diff{vm, ref})
				break
			}
		}
	}
	w.WriteString("\n### Where each guest's host memory goes (KiB per booted guest; deltas from before the launch to 3 s after the last boot)\n\n| figure |")
	for _, d := range steps {
		fmt.Fprintf(w, " %s |", label(d))
	}
	for _, d := range diffs {
		fmt.Fprintf(w, " vmlite − %s ×%d |", d.ref.Peer, d.ref.N)
	}
	w.WriteString("\n|---|")
	for range len(steps) + len(diffs) {
		w.WriteString("---:|")
	}
	w.WriteString("\n")
	row := func(name string, f func(DensityResult) (float64, bool)) {
		fmt.Fprintf(w, "| %s |", name)
		for _, d := range steps {
			if v, ok := f(d); ok {
				fmt.Fprintf(w, " %.0f |", v)
			} else {
				w.WriteString(" – |")
			}
		}
		for _, d := range diffs {
			a, ok1 := f(d.vm)
			b, ok2 := f(d.ref)
			if ok1 && ok2 {
				fmt.Fprintf(w, " %+.0f |", a-b)
			} else {
				w.WriteString(" – |")
			}
		}
		w.WriteString("\n")
	}
	w.WriteString("| load average (1, 5, 15 min) at the sample |")
	for _, d := range steps {
		fmt.Fprintf(w, " %s |", d.LoadAvg)
	}
	w.WriteString(strings.Repeat(" |", len(diffs)) + "\n")
	row("host: MemTotal − MemAvailable", func(d DensityResult) (float64, bool) { return d.PerGuestKiB, true })
	row("… less the free pages on per-CPU lists", func(d DensityResult) (float64, bool) {
		return d.PerGuestKiB - d.Breakdown.PCPFreeKiB, d.Breakdown.HasPCP
	})
	row("free pages on per-CPU lists (zoneinfo; not in MemFree)", func(d DensityResult) (float64, bool) {
		return d.Breakdown.PCPFreeKiB, d.Breakdown.HasPCP
	})
	for i, name := range append(append([]string{}, breakdownFields...), OtherField) {
		i, title := i, name
		switch name {
		case "MemAvailable", "MemFree":
			title = name + " (decrease)"
		case "SReclaimable", "SUnreclaim":
			title = "… " + name
		case "Shmem":
			title = "Shmem (tmpfs, in Cached)"
		}
		row(title, func(d DensityResult) (float64, bool) {
			m := d.Breakdown.Meminfo
			if i < len(m) && m[i].Name == name {
				return m[i].KiB, true
			}
			return 0, false
		})
	}
	row("runtime dir's tmpfs (in Shmem)", func(d DensityResult) (float64, bool) {
		return d.Breakdown.RunTmpfsKiB, d.Breakdown.RunTmpfsKiB >= 0
	})
	cgRows := func(title string, f func(DensityResult) cgMem) {
		row(title, func(d DensityResult) (float64, bool) { return float64(f(d).Usage), true })
		row("… kernel (kmem)", func(d DensityResult) (float64, bool) { return float64(f(d).Kmem), true })
		row("… anonymous", func(d DensityResult) (float64, bool) { return float64(f(d).Anon), true })
		row("… page cache", func(d DensityResult) (float64, bool) { return float64(f(d).File), true })
		row("… … of it shmem", func(d DensityResult) (float64, bool) { return float64(f(d).Shmem), true })
	}
	cgRows("guests' memory cgroups: charged", func(d DensityResult) cgMem { return d.Breakdown.GuestCgroup })
	cgRows("harness's memory cgroup (supervisors, monitors): growth", func(d DensityResult) cgMem { return d.Breakdown.HarnessCgroup })
	row("processes: guest trees' PSS", func(d DensityResult) (float64, bool) { return float64(d.Breakdown.PSS.PSS), true })
	row("… anonymous", func(d DensityResult) (float64, bool) { return float64(d.Breakdown.PSS.PSSAnon), true })
	row("… file-backed", func(d DensityResult) (float64, bool) { return float64(d.Breakdown.PSS.PSSFile), true })
	row("… shmem", func(d DensityResult) (float64, bool) { return float64(d.Breakdown.PSS.PSSShmem), true })
	row("processes: the peer's, outside the trees", func(d DensityResult) (float64, bool) {
		return d.Breakdown.SharedPSS, true
	})
	row("left after destroying all (MemTotal − MemAvailable)", func(d DensityResult) (float64, bool) {
		return d.Breakdown.LeftAfterStopKiB, true
	})

	// The slab caches: the union of every step's top growers.
	var names []string
	seen := map[string]bool{}
	for _, d := range steps {
		for _, c := range d.Breakdown.SlabTop {
			if !seen[c.Name] {
				seen[c.Name] = true
				names = append(names, c.Name)
			}
		}
	}
	if len(names) == 0 {
		return
	}
	w.WriteString("\n### Largest slab cache growers (KiB of slabs per booted guest; – : not in that step's top 10)\n\n| cache |")
	for _, d := range steps {
		fmt.Fprintf(w, " %s |", label(d))
	}
	w.WriteString("\n|---|")
	for range steps {
		w.WriteString("---:|")
	}
	w.WriteString("\n")
	for _, n := range names {
		fmt.Fprintf(w, "| %s |", n)
		for _, d := range steps {
			v := "–"
			for _, c := range d.Breakdown.SlabTop {
				if c.Name == n {
					v = fmt.Sprintf("%.1f", c.KiB)
				}
			}
			fmt.Fprintf(w, " %s |", v)
		}
		w.WriteString("\n")
	}
}

// netHostKiB is a step's host memory per guest less the free pages that
// grew on the page allocator's per-CPU lists (not used by anyone, but not
// in MemFree either); ok is false when they were not read.
func netHostKiB(d DensityResult) (float64, bool) {
	if d.Breakdown == nil || !d.Breakdown.HasPCP {
		return 0, false
	}
	return d.PerGuestKiB - d.Breakdown.PCPFreeKiB, true
}
