package main

import (
	"fmt"
	"strings"
)

// ImagesResult is the images section: vmlite's image store and clones
// against LXC's snapshot clones and nspawn's plain copies, on the Debian
// template tree.
type ImagesResult struct {
	// Tree describes the rootfs: its size and files.
	Tree   string  `json:"tree"`
	TarMiB float64 `json:"tarMiB"`
	// Import is `vmlite image import` against `tar -x` of the same
	// uncompressed tarball, taking turns.
	Import []ImportResult `json:"import"`
	Clones []CloneResult  `json:"clones"`
	// Density is N guests from one image against N full copies.
	Density []ImageDensity `json:"density"`
	Notes   []string       `json:"notes,omitempty"`
}

// ImportResult is one way of unpacking the tarball.
type ImportResult struct {
	Command string   `json:"command"`
	WallS   Summary  `json:"wallSeconds"`
	CPUS    Summary  `json:"cpuSeconds"`
	MBPerS  Summary  `json:"MBPerS"`
	Errors  []string `json:"errors,omitempty"`
}

// CloneResult is one peer's clones of a shut-off Debian guest.
type CloneResult struct {
	Peer    string   `json:"peer"`
	Command string   `json:"command"`
	N       int      `json:"n"`
	Ms      Summary  `json:"msPerClone"`
	DiskKiB Summary  `json:"diskKiBPerClone"`
	Errors  []string `json:"errors,omitempty"`
}

// ImageDensity is N Debian guests of one kind running at once.
type ImageDensity struct {
	Setup  string `json:"setup"` // "image" or "full copies"
	N      int    `json:"n"`
	Booted int    `json:"booted"`
	// AllBootedS is from the first start to the last boot marker;
	// BootS each guest's start to its marker.
	AllBootedS float64 `json:"allBootedS"`
	BootS      Summary `json:"bootSeconds"`
	// UsedKiB is MemTotal-MemAvailable's growth per guest: anonymous and
	// kernel memory, not the page cache, which MemAvailable counts free;
	// host-wide, so the other work on the machine is in it too.
	UsedKiB float64 `json:"usedKiBPerGuest"`
	// OwnKiB is what the guests' memory cgroups are charged for anonymous
	// memory, kernel memory and shmem, per guest: the guest's own memory,
	// whoever else runs on the host. (Their page cache charge is left
	// out: it goes to whoever read a page first, the harness's cp -a for
	// a full copy, the first guest for an image's layer.)
	OwnKiB float64 `json:"cgroupOwnKiBPerGuest"`
	// The guests' process trees' PSS per guest: file pages (binaries and
	// libraries, shared through the image's lower layers, private to each
	// full copy) and anonymous.
	PSSKiB     float64 `json:"pssKiBPerGuest"`
	PSSFileKiB float64 `json:"pssFileKiBPerGuest"`
	PSSAnonKiB float64 `json:"pssAnonKiBPerGuest"`
	// HostKiB is OwnKiB + PSSFileKiB: what a guest costs the host, its
	// mapped file pages counted as shared.
	HostKiB float64  `json:"hostKiBPerGuest"`
	DiskKiB float64  `json:"diskKiBPerGuest"`
	LoadAvg string   `json:"loadAvg"`
	Errors  []string `json:"errors,omitempty"`
}

func imagesTables(w *strings.Builder, r *ImagesResult) {
	fmt.Fprintf(w, "\n## Images: %s\n\n", r.Tree)
	fmt.Fprintf(w, "Import of the uncompressed tarball (%.0f MiB, page cache warm), taking turns; median / min / max.\n\n", r.TarMiB)
	w.WriteString("| command | wall s | CPU s | MB/s |\n|---|---|---|---|\n")
	for _, x := range r.Import {
		fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", x.Command, fmtSum(x.WallS, ""), fmtSum(x.CPUS, ""), fmtSum(x.MBPerS, ""))
	}
	if len(r.Import) == 2 {
		fmt.Fprintf(w, "\nvmlite import / tar -x wall time: %s\n", fmtRatio(ratio(r.Import[0].WallS, r.Import[1].WallS)))
	}
	w.WriteString("\nClones of a shut-off Debian guest (booted once), taking turns: time per clone (ms) and the disk each adds (KiB).\n\n")
	w.WriteString("| peer | command | clones | ms per clone | KiB per clone |\n|---|---|---|---|---|\n")
	for _, c := range r.Clones {
		fmt.Fprintf(w, "| %s | `%s` | %d | %s | %s |\n", c.Peer, c.Command, c.N, fmtSum(c.Ms, ""), fmtSum(c.DiskKiB, ""))
	}
	w.WriteString("\nDebian guests running at once: from one image against full copies (vmlite both), per guest.\n\n")
	w.WriteString("host KiB = the guest cgroup's own charge (anon, kernel, shmem) + the file pages its processes map, shared by PSS; used KiB is the host-wide MemTotal−MemAvailable growth, other work included.\n\n")
	w.WriteString("| setup | guests | booted | all booted s | boot s each | host KiB | cgroup own KiB | PSS KiB (file / anon) | used KiB | disk KiB | load |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, d := range r.Density {
		fmt.Fprintf(w, "| %s | %d | %d | %.1f | %s | %.0f | %.0f | %.0f (%.0f / %.0f) | %.0f | %.0f | %s |\n", d.Setup, d.N, d.Booted, d.AllBootedS, fmtSum(d.BootS, ""),
			d.HostKiB, d.OwnKiB, d.PSSKiB, d.PSSFileKiB, d.PSSAnonKiB, d.UsedKiB, d.DiskKiB, d.LoadAvg)
	}
	if len(r.Density) == 2 && r.Density[1].HostKiB > 0 {
		fmt.Fprintf(w, "\nhost memory per guest, image / full copies: %s\n", fmtRatio(r.Density[0].HostKiB/r.Density[1].HostKiB))
	}
	for _, c := range r.Clones {
		for _, e := range c.Errors {
			fmt.Fprintf(w, "\nerror (%s): `%s`\n", c.Peer, oneLine(e))
		}
	}
	for _, x := range r.Import {
		for _, e := range x.Errors {
			fmt.Fprintf(w, "\nerror (%s): `%s`\n", x.Command, oneLine(e))
		}
	}
	for _, d := range r.Density {
		for _, e := range d.Errors {
			fmt.Fprintf(w, "\nerror (%s): `%s`\n", d.Setup, oneLine(e))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\n- %s\n", oneLine(n))
	}
}
