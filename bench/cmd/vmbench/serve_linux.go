package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
	"golang.org/x/sys/unix"
)

// The serve section: vmlite serve and libvirtd's LXC driver side by side,
// both driven by the same virsh (and, for the connections, go-libvirt),
// taking turns run by run. Each side gets -serve-guests defined guests
// (what virsh list --all lists), one of them started and destroyed per
// run, and as many transient guests created at once.

// libvirtdSock is libvirtd's read-write socket (the monolithic daemon).
const libvirtdSock = "/run/libvirt/libvirt-sock"

// serveConns is how many client connections the loaded USS figure holds.
const serveConns = 50

// listReps is how many times each run times the virsh lists and their
// floor on each side.
const listReps = 5

// serveIdle is how long both daemons are left without calls before their
// idle memory is read.
const serveIdle = 45 * time.Second

type serveSide struct {
	res    ServeSide
	uri    string
	sock   string
	pid    int
	prefix string
	xml    func(name string) string
	dir    string
	// defined and created are the guests this section made on the side.
	defined, created []string
}

func (s *serveSide) virsh(args ...string) (string, error) {
	return run("virsh", append([]string{"-q", "-c", s.uri}, args...)...)
}

// timed runs virsh and returns how long it took, in ms.
func (s *serveSide) timed(args ...string) (float64, error) {
	ms, _, err := s.timedCPU(args...)
	return ms, err
}

// timedCPU is timed, with virsh's own CPU time (user and system, from
// its rusage) in ms.
func (s *serveSide) timedCPU(args ...string) (wallMs, cpuMs float64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "virsh", append([]string{"-q", "-c", s.uri}, args...)...)
	t := time.Now()
	_, err = runCmd(cmd)
	wallMs = float64(time.Since(t).Microseconds()) / 1000
	if ps := cmd.ProcessState; ps != nil {
		cpuMs = float64((ps.UserTime() + ps.SystemTime()).Microseconds()) / 1000
	}
	return wallMs, cpuMs, err
}

// threadsCPU is the CPU time process pid's threads have used, in ms
// (/proc/PID/task/*/schedstat, nanoseconds: precise where stat's ticks
// are 10 ms).
func threadsCPU(pid int) float64 {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var ns float64
	for _, e := range ents {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, e.Name()))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			v, _ := strconv.ParseFloat(f[0], 64)
			ns += v
		}
	}
	return ns / 1e6
}

func (s *serveSide) writeXML(name string) (string, error) {
	p := filepath.Join(s.dir, name+".xml")
	return p, os.WriteFile(p, []byte(s.xml(name)), 0o644)
}

func (b *bench) serveAll() {
	r, err := b.serveRun()
	if err != nil {
		b.note("serve: %v", err)
	}
	b.res.Serve = r
}

func (b *bench) serveRun() (*ServeResult, error) {
	n := b.o.serveGuests
	r := &ServeResult{Guests: n}
	vm, stop, err := b.startServe()
	if err != nil {
		return nil, err
	}
	defer stop()
	sides := []*serveSide{vm}
	for _, p := range b.peers {
		if lp, ok := p.(*libvirtPeer); ok {
			lv, err := b.libvirtSide(lp)
			if err != nil {
				b.note("serve: libvirtd left out: %v", err)
				break
			}
			sides = append(sides, lv)
		}
	}
	if len(sides) == 1 {
		b.note("serve: no libvirt-lxc peer (-peers vmlite,libvirt-lxc): vmlite serve measured alone")
	}
	defer func() {
		for _, s := range sides {
			s.cleanup()
		}
	}()
	errs := func(err error) {
		if err != nil && len(r.Errors) < 10 {
			r.Errors = append(r.Errors, err.Error())
		}
	}
	for _, s := range sides {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return nil, err
		}
		logf("serve: defining %d guests on %s", n, s.res.Daemon)
		if err := s.defineAll(n); err != nil {
			return nil, fmt.Errorf("%s: define: %w", s.res.Daemon, err)
		}
	}
	var samples [2]struct {
		list, listName, version, above, state, cycle, start, destroy, idle, conn50, dirty50, create []float64
		listCPU, versionCPU, aboveCPU, daemonCPU                                                    []float64
	}
	var alone []float64
	// Idle: both daemons left without calls for serveIdle (vmlite serve
	// gives memory back 30 to 40 s after its last call; libvirtd keeps what it
	// has), then read at once; before the runs and after them.
	idle := func() {
		logf("serve: both daemons idle for %v", serveIdle)
		time.Sleep(serveIdle)
		for k, s := range sides {
			v, err := uss(s.pid)
			errs(err)
			if err == nil {
				samples[k].idle = append(samples[k].idle, v)
			}
		}
	}
	idle()
	total := b.o.warmup + b.o.runs
	for i := 0; i < total; i++ {
		logf("serve: run %d/%d", i+1, total)
		// virsh with no daemon: its own start and libvirt's test driver.
		t := time.Now()
		_, aerr := run("virsh", "-q", "-c", "test:///default", "version")
		errs(aerr)
		if i >= b.o.warmup && aerr == nil {
			alone = append(alone, float64(time.Since(t).Microseconds())/1000)
		}
		// The lists, listReps times each run (each is short and the host
		// is shared: more samples), the sides taking turns, each list next
		// to its floor.
		for rep := 0; rep < listReps; rep++ {
			for k, s := range sides {
				sm := &samples[k]
				ver, verCPU, verr := s.timedCPU("version")
				errs(verr)
				d0 := threadsCPU(s.pid)
				ms, cpu, err := s.timedCPU("list", "--all")
				dcpu := threadsCPU(s.pid) - d0
				errs(err)
				nm, nerr := s.timed("list", "--all", "--name")
				errs(nerr)
				if i < b.o.warmup {
					continue
				}
				if err == nil {
					sm.list = append(sm.list, ms)
					sm.listCPU, sm.daemonCPU = append(sm.listCPU, cpu), append(sm.daemonCPU, dcpu)
				}
				if nerr == nil {
					sm.listName = append(sm.listName, nm)
				}
				if verr == nil {
					sm.version, sm.versionCPU = append(sm.version, ver), append(sm.versionCPU, verCPU)
					if err == nil {
						sm.above, sm.aboveCPU = append(sm.above, ms-ver), append(sm.aboveCPU, cpu-verCPU)
					}
				}
			}
		}
		for k, s := range sides {
			sm := &samples[k]
			su, serr := s.stateCalls()
			errs(serr)
			st, err1 := s.timed("start", s.defined[0])
			de, err2 := s.timed("destroy", s.defined[0])
			errs(err1)
			errs(err2)
			loaded, cerr := s.withConns(serveConns)
			errs(cerr)
			if i < b.o.warmup {
				continue
			}
			if serr == nil {
				sm.state = append(sm.state, su)
			}
			if err1 == nil && err2 == nil {
				sm.cycle, sm.start, sm.destroy = append(sm.cycle, st+de), append(sm.start, st), append(sm.destroy, de)
			}
			if cerr == nil {
				sm.conn50 = append(sm.conn50, float64(loaded.USS()))
				sm.dirty50 = append(sm.dirty50, float64(loaded.PrivateDirty))
			}
		}
	}
	idle()
	// The parallel creates are the heaviest part: fewer rounds.
	rounds := min(b.o.runs, 3)
	for i := 0; i < rounds; i++ {
		for k, s := range sides {
			logf("serve: %d creates at once on %s (round %d/%d)", n, s.res.Daemon, i+1, rounds)
			secs, failed, err := s.createAll(n, i)
			errs(err)
			samples[k].create = append(samples[k].create, secs)
			s.res.CreateFailures += failed
		}
	}
	for k, s := range sides {
		sm := samples[k]
		s.res.ListMs, s.res.CycleMs, s.res.StartMs, s.res.DestroyMs = summarize(sm.list), summarize(sm.cycle), summarize(sm.start), summarize(sm.destroy)
		s.res.ListNameMs, s.res.VersionMs, s.res.ListAboveFloorMs = summarize(sm.listName), summarize(sm.version), summarize(sm.above)
		s.res.StateCallUs, s.res.Conn50DirtyKiB = summarize(sm.state), summarize(sm.dirty50)
		s.res.ListVirshCPUMs, s.res.VersionVirshCPUMs, s.res.AboveVirshCPUMs = summarize(sm.listCPU), summarize(sm.versionCPU), summarize(sm.aboveCPU)
		s.res.ListDaemonCPUMs = summarize(sm.daemonCPU)
		s.res.IdleUSSKiB, s.res.Conn50USSKiB, s.res.CreateAllS = summarize(sm.idle), summarize(sm.conn50), summarize(sm.create)
		r.Sides = append(r.Sides, s.res)
	}
	r.VirshAloneMs = summarize(alone)
	r.LoadAvg = loadAvg()
	return r, nil
}

// startServe starts `vmlite serve` on the vmlite peer's state root.
func (b *bench) startServe() (*serveSide, func(), error) {
	root := b.vm.root
	logPath := filepath.Join(b.work, "vmlite-serve.log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	cmd := b.vm.cmd("serve")
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() {
		_ = cmd.Process.Signal(unix.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		lf.Close()
	}
	sock := filepath.Join(root, "run", "libvirt-sock")
	s := &serveSide{res: ServeSide{Daemon: "vmlite serve"}, uri: "lxc+unix:///system?socket=" + sock, sock: sock,
		pid: cmd.Process.Pid, prefix: "vmb-sv", dir: filepath.Join(b.work, "serve", "vmlite")}
	rootfs := filepath.Join(b.work, b.vm.name()+"-base")
	s.xml = func(name string) string { return guestXML(b.vm.tmplXML, name, rootfs) }
	end := time.Now().Add(30 * time.Second)
	for {
		if _, err := s.virsh("version"); err == nil {
			return s, stop, nil
		}
		if time.Now().After(end) {
			stop()
			b, _ := os.ReadFile(logPath)
			return nil, nil, fmt.Errorf("vmlite serve did not answer within 30 s: %s", lastLines(string(b), 5))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *bench) libvirtSide(p *libvirtPeer) (*serveSide, error) {
	pid := p.daemon
	if pid == 0 { // one that already ran
		out, err := run("pidof", "libvirtd")
		if err != nil {
			return nil, fmt.Errorf("libvirtd's pid: %w", err)
		}
		if pid, err = strconv.Atoi(strings.Fields(out)[0]); err != nil {
			return nil, err
		}
	}
	rootfs := filepath.Join(b.work, p.name()+"-base")
	return &serveSide{res: ServeSide{Daemon: "libvirtd"}, uri: libvirtURI, sock: libvirtdSock, pid: pid, prefix: "vmb-sl",
		dir: filepath.Join(b.work, "serve", "libvirt"), xml: func(name string) string { return libvirtDomainXML(name, rootfs) }}, nil
}

// each runs f on names, 8 at a time, and returns the first error.
func each(names []string, f func(string) error) error {
	work := make(chan string)
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				if err := f(n); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	return first
}

func (s *serveSide) defineAll(n int) error {
	var names []string
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("%s-%03d", s.prefix, i))
	}
	var mu sync.Mutex
	err := each(names, func(name string) error {
		p, err := s.writeXML(name)
		if err != nil {
			return err
		}
		if _, err := s.virsh("define", p); err != nil {
			return err
		}
		mu.Lock()
		s.defined = append(s.defined, name)
		mu.Unlock()
		return nil
	})
	if err == nil {
		// The cycle's guest is the first by name on both sides.
		s.defined[0], s.defined[indexOf(s.defined, names[0])] = names[0], s.defined[0]
	}
	return err
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return 0
}

// createAll runs n `virsh create` at once and returns the seconds until
// the last returned and how many failed; the guests are destroyed again
// afterwards, outside the timing.
func (s *serveSide) createAll(n, round int) (float64, int, error) {
	var paths, names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-c%d-%03d", s.prefix, round, i)
		p, err := s.writeXML(name)
		if err != nil {
			return 0, 0, err
		}
		paths, names = append(paths, p), append(names, name)
	}
	s.created = append(s.created, names...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	var first error
	t := time.Now()
	for _, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.virsh("create", p); err != nil {
				mu.Lock()
				failed++
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	secs := time.Since(t).Seconds()
	_ = each(names, func(name string) error { _, _ = s.virsh("destroy", name); return nil })
	return secs, failed, first
}

// withConns opens n client connections to the daemon, each listing the
// domains once, reads the daemon's memory while they are open, and closes
// them.
func (s *serveSide) withConns(n int) (Rollup, error) {
	var ls []*libvirt.Libvirt
	defer func() {
		for _, l := range ls {
			_ = l.Disconnect()
		}
	}()
	for i := 0; i < n; i++ {
		l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(s.sock), dialers.WithLocalTimeout(10*time.Second)))
		if err := l.ConnectToURI(libvirt.ConnectURI("lxc:///system")); err != nil {
			return Rollup{}, fmt.Errorf("%s: connection %d: %w", s.res.Daemon, i, err)
		}
		ls = append(ls, l)
		if _, _, err := l.ConnectListAllDomains(1, 0); err != nil {
			return Rollup{}, fmt.Errorf("%s: connection %d: list: %w", s.res.Daemon, i, err)
		}
	}
	return readRollup(s.pid)
}

// stateCalls makes a GET_STATE call per defined guest on one go-libvirt
// connection, one after another, as virsh list --all does, and returns
// the µs per round trip.
func (s *serveSide) stateCalls() (float64, error) {
	l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(s.sock), dialers.WithLocalTimeout(10*time.Second)))
	if err := l.ConnectToURI(libvirt.ConnectURI("lxc:///system")); err != nil {
		return 0, fmt.Errorf("%s: connect: %w", s.res.Daemon, err)
	}
	defer l.Disconnect()
	doms, _, err := l.ConnectListAllDomains(1, libvirt.ConnectListDomainsActive|libvirt.ConnectListDomainsInactive)
	if err != nil || len(doms) == 0 {
		return 0, fmt.Errorf("%s: list: %d domains, %v", s.res.Daemon, len(doms), err)
	}
	t := time.Now()
	for _, d := range doms {
		if _, _, err := l.DomainGetState(d, 0); err != nil {
			return 0, fmt.Errorf("%s: GET_STATE %s: %w", s.res.Daemon, d.Name, err)
		}
	}
	return float64(time.Since(t).Microseconds()) / float64(len(doms)), nil
}

func uss(pid int) (float64, error) {
	r, err := readRollup(pid)
	return float64(r.USS()), err
}

// cleanup removes every guest the section made on the side.
func (s *serveSide) cleanup() {
	_ = each(s.created, func(name string) error { _, _ = s.virsh("destroy", name); return nil })
	_ = each(s.defined, func(name string) error {
		_, _ = s.virsh("destroy", name)
		_, _ = s.virsh("undefine", name)
		return nil
	})
}
