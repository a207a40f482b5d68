// Command vmbench runs vmlite and the reference system-container managers
// (LXC, systemd-nspawn, libvirt's LXC driver) side by side, in one run, on
// the same busybox root filesystem, and writes a markdown table and JSON
// under bench/results. See bench/README.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

type options struct {
	vmlite        string
	runs, warmup  int
	peers         string
	sections      string
	density       string
	densityPeers  string
	densitySeq    string
	vmliteMax     int
	out           string
	work          string
	settle        time.Duration
	budget        time.Duration
	keep          bool
	compare       string
	consoleBytes  int64
	debianCache   string
	bonnieRuns    int
	procfsReads   int
	procfsGuests  string
	imagesClones  int
	imagesCopies  int
	imagesGuests  int
	imagesCopyN   int
	imagesIDMap   bool
	imagesImports int
	serveGuests   int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == readLoopRole {
		os.Exit(readLoop())
	}
	var o options
	flag.StringVar(&o.vmlite, "vmlite", "bin/vmlite", "the vmlite binary under test")
	flag.IntVar(&o.runs, "runs", 20, "measured start/stop cycles per peer and set")
	flag.IntVar(&o.warmup, "warmup", 2, "unmeasured cycles first")
	flag.StringVar(&o.peers, "peers", "vmlite,lxc,nspawn,libvirt-lxc", "peers to compare (also vmlite-dedicated: a supervisor process per guest; vmlite-joined: every start joins a running shared supervisor; vmlite-joined-stage: the same with a pre-forked init stage, VMLITE_INIT_STAGES=1)")
	flag.StringVar(&o.sections, "sections", "startstop,profile,density,console,workload,debian,procfs,images,serve", "what to measure: startstop, profile, density, console, workload (busybox loads and bonnie++), debian (the systemd guest), bonnie (bonnie++ alone), procfs (the /proc server against LXCFS), images (import, clones and guests from an image against tar -x, lxc-copy and full copies), serve (vmlite serve against libvirtd, through virsh; with -peers vmlite,libvirt-lxc)")
	flag.IntVar(&o.serveGuests, "serve-guests", 200, "serve section: guests defined on each daemon for virsh list --all, and created at once")
	flag.StringVar(&o.density, "density", "50,200", "guest counts for the density test")
	flag.StringVar(&o.densitySeq, "density-seq", "", "guest counts for density one after another (each start once the previous guest booted), e.g. 200")
	flag.StringVar(&o.densityPeers, "density-peers", "vmlite,lxc,nspawn,libvirt-lxc", "peers in the density test")
	flag.IntVar(&o.vmliteMax, "vmlite-max", 0, "an extra density step for vmlite alone (e.g. 1000); 0 skips it")
	flag.StringVar(&o.out, "out", "bench/results", "where the results go")
	flag.StringVar(&o.work, "work", "/var/tmp", "parent of the scratch directory")
	flag.DurationVar(&o.settle, "settle", 300*time.Millisecond, "wait after the marker before sampling memory")
	flag.DurationVar(&o.budget, "budget", 45*time.Minute, "skip further sections once this much time has passed")
	flag.BoolVar(&o.keep, "keep", false, "keep the scratch directory")
	flag.Int64Var(&o.consoleBytes, "console-bytes", 4<<20, "output per console throughput run")
	flag.StringVar(&o.debianCache, "debian-cache", "/var/cache/vmlite-test", "`DIR` of the debootstrap cache for vmlite template debian (the integration tests' cache, so that the tree is a copy)")
	flag.IntVar(&o.bonnieRuns, "bonnie-runs", 5, "bonnie++ runs on each side (host and guest, taking turns)")
	flag.IntVar(&o.procfsReads, "procfs-reads", 2000, "reads of each file per server in the procfs section")
	flag.StringVar(&o.procfsGuests, "procfs-guests", "200,1000", "guest counts for the /proc servers' memory (procfs section)")
	flag.IntVar(&o.imagesClones, "images-clones", 200, "clones of each kind in the images section")
	flag.IntVar(&o.imagesCopies, "images-copies", 10, "of which cp -a full copies (250 MB of disk each, removed once measured)")
	flag.IntVar(&o.imagesGuests, "images-guests", 200, "Debian guests from one image, and full copies, running at once (images section)")
	flag.IntVar(&o.imagesCopyN, "images-copy-guests", 10, "Debian guests on full copies (images section; -1: as many as -images-guests): each copy is 250 MB of disk and 10-20 s of cp -a, and a full copy's guest costs the same at any count")
	flag.BoolVar(&o.imagesIDMap, "images-idmap", true, "the images section's guests (from the image and on full copies) mapped, each with host ids of its own (<idmap>; false: unmapped with CAP_SYS_ADMIN, as the clones' source)")
	flag.IntVar(&o.imagesImports, "images-imports", 3, "imports of the tarball on each side (images section)")
	flag.StringVar(&o.compare, "compare", "", "another vmlite binary to run side by side as peer vmlite-base (before/after a change)")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "vmbench: needs root (namespaces, cgroups, the reference managers)")
		os.Exit(2)
	}
	if err := runBench(o); err != nil {
		fmt.Fprintf(os.Stderr, "vmbench: %v\n", err)
		os.Exit(1)
	}
}

// bench is one run: its peers, scratch and results.
type bench struct {
	o       options
	work    string
	peers   []peer
	vm      *vmlitePeer
	res     Results
	began   time.Time
	cgroups map[string]bool
	// debXML is the domain XML `vmlite template debian` printed for the
	// Debian rootfs (debianBase), "" until it is built.
	debXML  string
	mu      sync.Mutex // guards cleanup against a concurrent signal
	cleaned bool
}

func runBench(o options) error {
	b := &bench{o: o, began: time.Now()}
	work, err := os.MkdirTemp(o.work, "vmbench-")
	if err != nil {
		return err
	}
	b.work = work
	// Traversable by a guest's mapped root (vmlite-idmap): vmlite refuses
	// a rootfs whose parents it cannot search.
	if err := os.Chmod(work, 0o711); err != nil {
		return err
	}
	b.cgroups = cgroupDirs()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
	go func() {
		s := <-sigs
		logf("%v: cleaning up", s)
		b.cleanup()
		os.Exit(130)
	}()
	defer b.cleanup()

	bin, err := filepath.Abs(o.vmlite)
	if err != nil {
		return err
	}
	b.vm = &vmlitePeer{label: "vmlite", bin: bin}
	b.res = Results{Date: time.Now().UTC().Format(time.RFC3339), Runs: o.runs, Warmup: o.warmup,
		SettleMs: int(o.settle.Milliseconds()), Versions: map[string]map[string]string{}}
	b.res.Machine = machineInfo()
	for _, name := range splitList(o.peers) {
		var p peer
		switch name {
		case "vmlite":
			p = b.vm
		case "vmlite-dedicated":
			// The same build, one supervisor process per guest (as before
			// shared supervisors): what sharing buys, side by side.
			p = &vmlitePeer{label: name, bin: bin, extraEnv: []string{"VMLITE_GUESTS_PER_SUPERVISOR=1"}}
		case "vmlite-joined":
			// The same build, each start joining a running shared
			// supervisor (an anchor guest keeps it up).
			p = &vmlitePeer{label: name, bin: bin, anchor: true}
		case "vmlite-joined-stage":
			// vmlite-joined with a pre-forked init stage waiting in a spare
			// cgroup (VMLITE_INIT_STAGES=1): a taken stage against a clone.
			p = &vmlitePeer{label: name, bin: bin, anchor: true, extraEnv: []string{"VMLITE_INIT_STAGES=1"}}
		case "lxc":
			p = &lxcPeer{}
		case "nspawn":
			p = &nspawnPeer{}
		case "libvirt-lxc":
			p = &libvirtPeer{}
		default:
			return fmt.Errorf("unknown peer %q", name)
		}
		b.peers = append(b.peers, p)
	}
	if err := b.vm.setup(work); err != nil {
		return err
	}
	base := filepath.Join(work, "base")
	if err := b.vm.makeRootfs(base); err != nil {
		return err
	}
	if o.compare != "" {
		cbin, err := filepath.Abs(o.compare)
		if err != nil {
			return err
		}
		cv := &vmlitePeer{label: "vmlite-base", bin: cbin, tmplXML: b.vm.tmplXML}
		b.peers = append(b.peers, cv)
		if slices.Contains(splitList(o.peers), "vmlite-joined") {
			// The joined start of the other build too: changes to starts
			// into a running supervisor show there.
			b.peers = append(b.peers, &vmlitePeer{label: "vmlite-base-joined", bin: cbin, tmplXML: b.vm.tmplXML, anchor: true})
		}
	}
	var ready []peer
	for _, p := range b.peers {
		if vp, ok := p.(*vmlitePeer); ok && vp != b.vm {
			vp.tmplXML = b.vm.tmplXML
			if err := vp.setup(work); err != nil {
				return err
			}
		} else if p != peer(b.vm) {
			if err := p.setup(work); err != nil {
				b.note("%s left out: setup: %v", p.name(), err)
				continue
			}
		}
		if _, err := run("cp", "-a", base, filepath.Join(work, p.name()+"-base")); err != nil {
			return err
		}
		b.res.Versions[p.name()] = p.versions()
		b.res.Peers = append(b.res.Peers, p.name())
		ready = append(ready, p)
	}
	b.peers = ready
	// Write back dirty page cache: a freshly built binary's pages are dirty
	// until writeback, and smaps counts dirty file pages as Private_Dirty,
	// which would inflate the supervisor's figure for half a minute.
	unix.Sync()
	sections := splitList(o.sections)
	for _, s := range sections {
		if time.Since(b.began) > o.budget {
			b.note("section %s skipped: the %v budget was spent", s, o.budget)
			continue
		}
		switch s {
		case "startstop":
			b.startStop()
		case "density":
			b.densityAll()
		case "console":
			b.consoleAll()
		case "profile":
			b.profileAll()
		case "workload":
			b.workloadAll()
			b.bonnieAll()
		case "debian":
			b.debianAll()
		case "bonnie":
			b.bonnieAll()
		case "procfs":
			b.procfsAll()
		case "images":
			b.imagesAll()
		case "serve":
			b.serveAll()
		default:
			return fmt.Errorf("unknown section %q", s)
		}
		// Partial results survive a later crash or interrupt.
		if err := b.write(); err != nil {
			return err
		}
	}
	b.cleanup() // before the last write: it records leftovers
	b.res.Machine.LoadEnd = loadAvg()
	b.res.Machine.ElapsedMin = time.Since(b.began).Minutes()
	return b.write()
}

func (b *bench) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	logf("%s", s)
	b.res.Notes = append(b.res.Notes, s)
}

// guestFor makes the scratch directory of guest name of peer p, booting
// rootfs.
func (b *bench) guestFor(p peer, name, rootfs string) (*guest, error) {
	g := &guest{name: name, rootfs: rootfs, dir: filepath.Join(b.work, p.name(), name)}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return nil, err
	}
	if err := p.prepare(g); err != nil {
		return nil, fmt.Errorf("%s: prepare: %w", p.name(), err)
	}
	return g, nil
}

// startStop runs the start/stop sets on the busybox guest.
func (b *bench) startStop() {
	cyc, mem := b.cycleSets(b.peers, "", "", func(p peer) string { return filepath.Join(b.work, p.name()+"-base") }, b.o.settle)
	b.res.Cycles = append(b.res.Cycles, cyc...)
	b.res.Memory = append(b.res.Memory, mem...)
}

// cycleSets runs the forced set, then the graceful set, of peers booting
// rootfs(p) (tag tells the guests' names apart between sections, initBin is
// the guest's init binary inside the rootfs, "" for busybox): in each set
// the peers take turns run by run, so drifting load on the shared machine
// hits every peer alike.
func (b *bench) cycleSets(peers []peer, tag, initBin string, rootfs func(peer) string, settle time.Duration) ([]PeerCycles, []PeerMemory) {
	var cycles []PeerCycles
	mem := map[string][]memSample{}
	for _, set := range []string{"forced", "graceful"} {
		forced := set == "forced"
		samples := map[string][]cycleSample{}
		errs := map[string][]string{}
		guests := map[string]*guest{}
		var active []peer
		for _, p := range peers {
			if !forced && p.gracefulUnsupported() != "" {
				cycles = append(cycles, PeerCycles{Peer: p.name(), Set: set, Unsupported: p.gracefulUnsupported()})
				continue
			}
			g, err := b.guestFor(p, "vmb-"+shortName(p)+"-"+tag+set[:1], rootfs(p))
			if err != nil {
				b.note("%v", err)
				continue
			}
			g.initBin = initBin
			guests[p.name()] = g
			active = append(active, p)
		}
		total := b.o.warmup + b.o.runs
		for i := 0; i < total; i++ {
			logf("start/stop %s%s: run %d/%d", tag, set, i+1, total)
			for _, p := range active {
				s, err := cycle(p, guests[p.name()], forced, settle)
				if err != nil {
					errs[p.name()] = append(errs[p.name()], err.Error())
					logf("%v", err)
					continue
				}
				if i < b.o.warmup {
					continue
				}
				samples[p.name()] = append(samples[p.name()], s)
				if s.Mem != nil {
					mem[p.name()] = append(mem[p.name()], *s.Mem)
				}
			}
		}
		for _, p := range active {
			cycles = append(cycles, summarizeCycles(p.name(), set, samples[p.name()], errs[p.name()]))
		}
	}
	var mems []PeerMemory
	for _, p := range peers {
		if ms := mem[p.name()]; len(ms) > 0 {
			mems = append(mems, summarizeMemory(p, ms))
		}
	}
	return cycles, mems
}

func summarizeCycles(peer, set string, ss []cycleSample, errs []string) PeerCycles {
	col := func(f func(cycleSample) float64) Summary {
		xs := make([]float64, len(ss))
		for i, s := range ss {
			xs[i] = f(s)
		}
		return summarize(xs)
	}
	pc := PeerCycles{
		Peer: peer, Set: set,
		StartMarker:    col(func(s cycleSample) float64 { return s.StartMarker }),
		StartExec:      col(func(s cycleSample) float64 { return s.StartExec }),
		StartReturn:    col(func(s cycleSample) float64 { return s.StartReturn }),
		StopReturn:     col(func(s cycleSample) float64 { return s.StopReturn }),
		StopGone:       col(func(s cycleSample) float64 { return s.StopGone }),
		ShutdownMarker: col(func(s cycleSample) float64 { return s.ShutdownMarker }),
		InitExit:       col(func(s cycleSample) float64 { return s.InitExit }),
		// The guest init's own part: from its shutdown marker (busybox's
		// rcK, systemd's ExecStop) to its exit.
		InitOwn: col(func(s cycleSample) float64 { return s.InitExit - s.ShutdownMarker }),
		// The rest of the graceful stop is the manager's.
		ManagerOverhead: col(func(s cycleSample) float64 { return s.StopGone - (s.InitExit - s.ShutdownMarker) }),
		Failures:        len(errs),
	}
	if len(errs) > 3 {
		errs = errs[:3]
	}
	pc.Errors = errs
	return pc
}

func summarizeMemory(p peer, ms []memSample) PeerMemory {
	col := func(f func(memSample) int64) Summary {
		xs := make([]float64, len(ms))
		for i, m := range ms {
			xs[i] = float64(f(m))
		}
		return summarize(xs)
	}
	return PeerMemory{
		Peer: p.name(), Supervisor: p.supervisorName(),
		SupUSS:    col(func(m memSample) int64 { return m.Sup.USS() }),
		SupPSS:    col(func(m memSample) int64 { return m.Sup.PSS }),
		SupRSS:    col(func(m memSample) int64 { return m.Sup.RSS }),
		SupDirty:  col(func(m memSample) int64 { return m.Sup.PrivateDirty }),
		InitUSS:   col(func(m memSample) int64 { return m.Init.USS() }),
		InitPSS:   col(func(m memSample) int64 { return m.Init.PSS }),
		TreeUSS:   col(func(m memSample) int64 { return m.Tree.USS() }),
		TreePSS:   col(func(m memSample) int64 { return m.Tree.PSS }),
		TreeProcs: ms[len(ms)-1].TreeProcs,
	}
}

// shortName keeps guest names short (LXC and libvirt use them in paths).
func shortName(p peer) string {
	switch p.name() {
	case "vmlite-base":
		return "vb"
	case "vmlite-base-joined":
		return "vbj"
	case "vmlite-dedicated":
		return "vd"
	case "vmlite-joined":
		return "vj"
	case "vmlite-joined-stage":
		return "vjs"
	case "vmlite-idmap":
		return "vi"
	case "libvirt-lxc":
		return "lv"
	case "nspawn":
		return "ns"
	}
	return p.name()
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func splitInts(s string) []int {
	var out []int
	for _, f := range splitList(s) {
		if n, err := strconv.Atoi(f); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// vmlitePeers are the run's vmlite peers, b.vm first, each once.
func (b *bench) vmlitePeers() []*vmlitePeer {
	var out []*vmlitePeer
	seen := map[*vmlitePeer]bool{}
	add := func(vp *vmlitePeer) {
		if vp != nil && !seen[vp] {
			seen[vp] = true
			out = append(out, vp)
		}
	}
	add(b.vm)
	for _, p := range b.peers {
		if vp, ok := p.(*vmlitePeer); ok {
			add(vp)
		}
	}
	return out
}

// cleanup tears every peer down, removes the cgroups the references left
// and the scratch directory. It runs once, at the end or on a signal.
func (b *bench) cleanup() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cleaned {
		return
	}
	b.cleaned = true
	defer cleanupDone()
	killLive()
	for _, p := range b.peers {
		p.teardown()
	}
	if b.vm != nil {
		b.vm.teardown()
	}
	for _, d := range removeNewCgroups(b.cgroups, b.ownership()) {
		b.res.Leftovers = append(b.res.Leftovers, "cgroup "+d)
	}
	// A state root goes only with its guests: one removed under running
	// guests leaves them, and their supervisors, with nothing to destroy
	// them by.
	running := false
	for _, vp := range b.vmlitePeers() {
		if len(vp.left) > 0 {
			running = true
			b.res.Leftovers = append(b.res.Leftovers, fmt.Sprintf("guests %v running from %s (kept: vmlite --root %s destroy NAME)", vp.left, vp.root, vp.root))
		}
	}
	if running {
		logf("keeping %s: guests still run from it", b.work)
	} else if !b.o.keep && b.work != "" {
		if err := os.RemoveAll(b.work); err != nil {
			logf("remove %s: %v", b.work, err)
		}
	}
}
