package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
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
	Setup string `json:"setup"` // "image" or "full copies"
	// IDMap: each guest mapped to host ids of its own (its user
	// namespace owned by its root's host uid); otherwise unmapped with
	// CAP_SYS_ADMIN.
	IDMap  bool `json:"idmap"`
	N      int  `json:"n"`
	Booted int  `json:"booted"`
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
	HostKiB float64 `json:"hostKiBPerGuest"`
	// SlabTop is the host's largest slab cache growers per booted guest
	// (/proc/slabinfo, before the first start and after the last boot):
	// host-wide, so other work is in it too, but where an image's
	// guest's kernel memory goes (overlayfs's inodes, dentries).
	SlabTop []KiBDelta `json:"slabTopKiBPerGuest,omitempty"`
	DiskKiB float64    `json:"diskKiBPerGuest"`
	LoadAvg string     `json:"loadAvg"`
	Errors  []string   `json:"errors,omitempty"`
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
		setup := d.Setup
		if d.IDMap {
			setup += ", mapped"
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.1f | %s | %.0f | %.0f | %.0f (%.0f / %.0f) | %.0f | %.0f | %s |\n", setup, d.N, d.Booted, d.AllBootedS, fmtSum(d.BootS, ""),
			d.HostKiB, d.OwnKiB, d.PSSKiB, d.PSSFileKiB, d.PSSAnonKiB, d.UsedKiB, d.DiskKiB, d.LoadAvg)
	}
	for _, d := range r.Density {
		if len(d.SlabTop) == 0 {
			continue
		}
		var parts []string
		for _, s := range d.SlabTop {
			parts = append(parts, fmt.Sprintf("%s %.0f", s.Name, s.KiB))
		}
		fmt.Fprintf(w, "\nslab growth per guest, KiB, host-wide (%s): %s\n", d.Setup, strings.Join(parts, ", "))
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

// idTargetRE is the host id a single-range <idmap> maps guest id 0 to, as
// vmlite's templates print it.
var idTargetRE = regexp.MustCompile(`(<[ug]id start="0" target=")[0-9]+(")`)

// withIDTarget is xml with its <idmap>'s uids and gids mapped from host id
// target on.
func withIDTarget(xml string, target uint32) string {
	return idTargetRE.ReplaceAllString(xml, "${1}"+strconv.FormatUint(uint64(target), 10)+"${2}")
}

// imagesIDBase is the first host id of the images section's mapped
// guests, each of which takes the next 65536: far above the templates'
// default (100000), where other guests of the host are.
const imagesIDBase = 200000000

// guestCgroupDir is guest's own cgroup (vmlite's leaf, NAME.ID) among dir
// and its parents: a mapped systemd guest, whose v1 controllers are
// writable, moves its init into init.scope below it, and the guest's
// charge is the leaf's (hierarchical).
func guestCgroupDir(dir, guest string) string {
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if strings.HasPrefix(filepath.Base(d), guest+".") {
			return d
		}
	}
	return dir
}
