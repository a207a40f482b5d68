package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// profileRuns is how many traced starts the profile section makes.
const profileRuns = 10

// profileAll traces `vmlite start` (each vmlite build under test) with
// strace -f --seccomp-bpf, which stops only at the few syscalls that mark
// the phases, and reports the median time of every phase.
func (b *bench) profileAll() {
	if err := ensurePackages("strace"); err != nil {
		b.note("profile skipped: %v", err)
		return
	}
	type traced struct {
		vp   *vmlitePeer
		g    *guest
		cols [][]float64
		err  error
	}
	var ts []*traced
	for _, p := range b.peers {
		vp, ok := p.(*vmlitePeer)
		if !ok {
			continue
		}
		g, err := b.guestFor(vp, "vmb-"+shortName(vp)+"-p", filepath.Join(b.work, vp.name()+"-base"))
		if err != nil {
			b.note("profile %s: %v", vp.name(), err)
			continue
		}
		ts = append(ts, &traced{vp: vp, g: g, cols: make([][]float64, len(phaseNames))})
	}
	// Builds take turns run by run, as in the start/stop section.
	for i := 0; i < b.o.warmup+profileRuns; i++ {
		logf("profile: run %d/%d", i+1, b.o.warmup+profileRuns)
		for _, t := range ts {
			if t.err != nil {
				continue
			}
			ph, err := b.tracedStart(t.vp, t.g)
			if err != nil {
				t.vp.cleanupGuest(t.g)
				t.err = err
				continue
			}
			if i < b.o.warmup {
				continue
			}
			for j, x := range ph {
				t.cols[j] = append(t.cols[j], x)
			}
		}
	}
	for _, t := range ts {
		r := ProfileResult{Peer: t.vp.name()}
		if t.err != nil {
			b.note("profile %s: %v", t.vp.name(), t.err)
		}
		for j, name := range phaseNames {
			r.Phases = append(r.Phases, PhaseResult{Phase: name, Ms: summarize(t.cols[j])})
		}
		b.res.StartProfile = append(b.res.StartProfile, r)
	}
}

// tracedStart boots g once under strace and destroys it; strace follows
// the supervisor, so it ends when the guest does.
func (b *bench) tracedStart(vp *vmlitePeer, g *guest) ([]float64, error) {
	trace := filepath.Join(g.dir, "strace.txt")
	_ = os.Remove(trace)
	_ = os.Remove(g.marker())
	cmd := exec.Command("strace", "-f", "--seccomp-bpf", "-ttt", "-T", "-s", "48", "-o", trace,
		"-e", "trace=execve,clone,clone3,read,recvmsg,write",
		vp.bin, "start", filepath.Join(g.dir, "domain.xml"))
	cmd.Env = vp.env()
	exited, err := startLogged(cmd, filepath.Join(g.dir, "strace.log"))
	if err != nil {
		return nil, err
	}
	if _, err := waitFile(g.marker(), bootDeadline); err != nil {
		_ = cmd.Process.Kill()
		return nil, err
	}
	time.Sleep(50 * time.Millisecond) // the CLI's last write
	if err := vp.stop(g, true); err != nil {
		return nil, err
	}
	select {
	case <-exited:
	case <-time.After(cmdTimeout):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("strace did not end after the guest")
	}
	f, err := os.Open(trace)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ph, ok := parseStartTrace(f).phases()
	if !ok {
		return nil, fmt.Errorf("trace %s lacks a phase marker", trace)
	}
	return ph, nil
}
