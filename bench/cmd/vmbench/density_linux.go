package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// densityAll runs every density step for every density peer, then the
// vmlite-only step.
func (b *bench) densityAll() {
	want := map[string]bool{}
	for _, n := range splitList(b.o.densityPeers) {
		want[n] = true
	}
	for _, n := range splitInts(b.o.density) {
		for _, p := range b.peers {
			if !want[p.name()] {
				continue
			}
			if time.Since(b.began) > b.o.budget {
				b.note("density %s %d skipped: budget spent", p.name(), n)
				continue
			}
			b.res.Density = append(b.res.Density, b.density(p, n, 0))
			_ = b.write()
		}
	}
	// One after another: each start launched once the previous guest booted.
	for _, n := range splitInts(b.o.densitySeq) {
		for _, p := range b.peers {
			if !want[p.name()] {
				continue
			}
			if time.Since(b.began) > b.o.budget {
				b.note("density %s %d one after another skipped: budget spent", p.name(), n)
				continue
			}
			b.res.Density = append(b.res.Density, b.density(p, n, seqInFlight))
			_ = b.write()
		}
	}
	if n := b.o.vmliteMax; n > 0 && time.Since(b.began) < b.o.budget {
		// At most 64 start commands at once: 1000 Go CLIs and supervisors
		// starting together would need gigabytes just to start.
		b.res.Density = append(b.res.Density, b.density(b.vm, n, 64))
	}
}

// density launches n guests of p back to back without waiting for each
// start command (as anchors.md did), waits for every marker, measures the
// host memory they use, and destroys them all at once. inFlight > 0 bounds
// how many detached start commands run at the same time; seqInFlight
// launches each guest once the one before has booted.
func (b *bench) density(p peer, n, inFlight int) DensityResult {
	r := DensityResult{Peer: p.name(), N: n, MaxInFlight: inFlight}
	logf("density: %s x %d", p.name(), n)
	fail := func(format string, args ...any) {
		if len(r.Errors) < 5 {
			r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
		}
	}
	base := filepath.Join(b.work, p.name()+"-base")
	dir := filepath.Join(b.work, p.name(), fmt.Sprintf("density-%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail("%v", err)
		return r
	}
	defer os.RemoveAll(dir)
	guests := make([]*guest, 0, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("vmb-%s-%04d", shortName(p), i)
		rootfs := filepath.Join(dir, name+"-rootfs")
		// Hard-linked copies: cheap, and every guest its own marker.
		if _, err := run("cp", "-al", base, rootfs); err != nil {
			fail("copy rootfs: %v", err)
			return r
		}
		g := &guest{name: name, rootfs: rootfs, dir: filepath.Join(dir, name)}
		// The base may hold markers of an earlier section's last boot.
		_ = os.Remove(g.marker())
		_ = os.Remove(g.shutdown())
		if err := os.MkdirAll(g.dir, 0o755); err != nil {
			fail("%v", err)
			return r
		}
		if err := p.prepare(g); err != nil {
			fail("prepare: %v", err)
			return r
		}
		guests = append(guests, g)
	}
	time.Sleep(2 * time.Second) // let the copies' writeback settle
	runFS := ""
	if rt, ok := p.(interface{ runTmpfs() string }); ok {
		runFS = rt.runTmpfs()
	}
	selfCg, _ := memCgroupOf(os.Getpid())
	self0, _ := memCgroupUsage(selfCg)
	mem0, _ := memUsed()
	k0, kerr := readKmem(runFS)
	if kerr != nil {
		fail("kernel memory: %v", kerr)
	}
	cpu0, cpuErr := readCPUStat()
	// The start commands and what they leave running are accounted in a
	// cpuacct cgroup of this step's (the harness's own spawning CPU, spent
	// there too, is taken off).
	cg, cgErr := enterCPUGroup(fmt.Sprintf("vmbench-%d-%s-%d", os.Getpid(), p.name(), n))
	var ru0 unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	t0 := time.Now()
	var running []*guest // detached start commands not yet known to have returned
	for _, g := range guests {
		for inFlight > 0 && p.detached() && len(running) >= inFlight {
			<-running[0].exited
			running = running[1:]
		}
		cmd := p.startCmd(g)
		exited, err := startLogged(cmd, filepath.Join(g.dir, "start.log"))
		if err != nil {
			fail("%s: %v", g.name, err)
			continue
		}
		g.cmd, g.exited = cmd, exited
		running = append(running, g)
		if inFlight == seqInFlight {
			_, _ = waitFile(g.marker(), bootDeadline)
		}
	}
	r.LaunchS = time.Since(t0).Seconds()
	var selfSpawn time.Duration
	if cgErr == nil {
		var spawn1 unix.Rusage
		_ = unix.Getrusage(unix.RUSAGE_SELF, &spawn1)
		selfSpawn = rusageCPU(spawn1) - rusageCPU(ru0)
		if err := cg.leave(); err != nil {
			fail("leave the step's cpuacct cgroup: %v", err)
		}
		defer func() {
			if err := cg.remove(); err != nil {
				fail("%v", err)
			}
		}()
	}
	pending := map[*guest]bool{}
	for _, g := range guests {
		if g.cmd != nil {
			pending[g] = true
		}
	}
	deadline := time.Now().Add(60*time.Second + time.Duration(n)*200*time.Millisecond)
	var last time.Time
	var boots []time.Duration
	cpu1 := cpu0
	for len(pending) > 0 && time.Now().Before(deadline) {
		seen := false
		for g := range pending {
			if unix.Access(g.marker(), unix.F_OK) == nil {
				delete(pending, g)
				g.startOK = true
				last = time.Now()
				boots = append(boots, last.Sub(t0))
				seen = true
				continue
			}
			if p.detached() && exitedFailed(g) {
				delete(pending, g)
			}
		}
		if seen && cpuErr == nil {
			// The CPU time up to the last boot seen so far.
			if c, err := readCPUStat(); err == nil {
				cpu1 = c
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, g := range guests {
		if g.startOK {
			r.Booted++
		}
	}
	r.Failures = n - r.Booted
	if r.Booted > 0 {
		r.AllBootedS = last.Sub(t0).Seconds()
	}
	// Detached start commands all return before memory is read.
	var startCPU time.Duration
	for _, g := range guests {
		if g.exited != nil && p.detached() {
			select {
			case <-g.exited:
			case <-time.After(cmdTimeout):
			}
		}
		if g.cmd != nil && g.cmd.ProcessState != nil {
			startCPU += g.cmd.ProcessState.UserTime() + g.cmd.ProcessState.SystemTime()
		}
		if g.cmd != nil && g.cmd.ProcessState != nil && !g.cmd.ProcessState.Success() {
			b, _ := os.ReadFile(filepath.Join(g.dir, "start.log"))
			fail("%s: %s", g.name, lastLines(strings.TrimSpace(string(b)), 2))
		}
	}
	if cpuErr == nil {
		r.BootCPU = bootCPU(cpu0, cpu1, r.Booted, startCPU, boots)
		if cgErr == nil && r.BootCPU != nil {
			r.BootCPU.addPeerCPU(p, guests, cg.dir, selfSpawn)
		}
	} else {
		fail("cpu time: %v", cpuErr)
	}
	time.Sleep(3 * time.Second)
	mem1, _ := memUsed()
	k1, kerr1 := readKmem(runFS)
	self1, _ := memCgroupUsage(selfCg)
	r.LoadAvg = loadAvg()
	r.MemDeltaMiB = float64(mem1-mem0) / 1024
	if r.Booted > 0 {
		r.PerGuestKiB = float64(mem1-mem0) / float64(r.Booted)
	}
	var pss int64
	var tree Rollup
	counted := 0
	pp := parents()
	// A shared supervisor's tree holds all its guests: count it once.
	seen := map[int]bool{}
	inTrees := map[int]bool{}
	guestCgs := map[string]bool{}
	var cgSum cgMem
	for _, g := range guests {
		if !g.startOK {
			continue
		}
		sup, init, err := p.procs(g)
		if err != nil {
			fail("%s: procs: %v", g.name, err)
			continue
		}
		g.sup, g.init = sup, init
		if dir, err := memCgroupOf(init); err == nil && !guestCgs[dir] {
			guestCgs[dir] = true
			if m, err := memCgroupUsage(dir); err == nil {
				cgSum = cgSum.add(m)
			}
		}
		if seen[sup] {
			counted++
			continue
		}
		if t, _, err := treeRollupIn(sup, pp); err == nil {
			seen[sup] = true
			pss += t.PSS
			tree = tree.Add(t)
			counted++
			for _, pid := range descendants(sup, pp) {
				inTrees[pid] = true
			}
		}
	}
	if counted > 0 {
		r.PSSPerGuestKiB = float64(pss) / float64(counted)
	}
	var bd MemBreakdown
	if kerr == nil && kerr1 == nil && r.Booted > 0 {
		bd = breakdown(k0, k1, r.Booted, 10)
		if counted > 0 {
			per := func(x int64) int64 { return x / int64(counted) }
			bd.PSS = Rollup{RSS: per(tree.RSS), PSS: per(tree.PSS), PrivateClean: per(tree.PrivateClean),
				PrivateDirty: per(tree.PrivateDirty), PSSAnon: per(tree.PSSAnon), PSSFile: per(tree.PSSFile), PSSShmem: per(tree.PSSShmem)}
		}
		bd.GuestCgroup = cgSum.perGuest(r.Booted)
		if selfCg != "" {
			bd.HarnessCgroup = self1.sub(self0).perGuest(r.Booted)
		}
		if sp, ok := p.(interface{ sharedMarker() string }); ok {
			bd.SharedPSS = float64(pssOfCmdlines(sp.sharedMarker(), inTrees).PSS) / float64(r.Booted)
		}
	}
	// Forced stop of all at once.
	t1 := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	limit := len(guests)
	if inFlight > 0 {
		limit = inFlight
	}
	sem := make(chan struct{}, max(limit, 1))
	for _, g := range guests {
		if g.sup == 0 {
			continue
		}
		wg.Add(1)
		go func(g *guest) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := p.stop(g, true); err != nil {
				mu.Lock()
				r.StopFailures++
				fail("stop %s: %v", g.name, err)
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	var pids []int
	for _, g := range guests {
		if g.sup > 0 {
			pids = append(pids, g.sup, g.init)
		}
	}
	if err := waitGone(cmdTimeout, pids...); err != nil {
		fail("after stop: %v", err)
	}
	r.StopAllS = time.Since(t1).Seconds()
	for _, g := range guests {
		p.cleanupGuest(g)
	}
	if r.Booted > 0 && bd.Meminfo != nil {
		time.Sleep(3 * time.Second) // as after the boot: exits and RCU frees settle
		if mem2, err := memUsed(); err == nil {
			bd.LeftAfterStopKiB = float64(mem2-mem0) / float64(r.Booted)
		}
		r.Breakdown = &bd
	}
	logf("density: %s x %d: %d booted in %.2fs, %.0f KiB/guest host, stop all %.2fs",
		p.name(), n, r.Booted, r.AllBootedS, r.PerGuestKiB, r.StopAllS)
	return r
}

// exitedFailed reports whether g's detached start command has ended with
// a failure.
func exitedFailed(g *guest) bool {
	select {
	case <-g.exited:
		return !g.cmd.ProcessState.Success()
	default:
		return false
	}
}
