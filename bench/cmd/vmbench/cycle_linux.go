package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"
)

// bootDeadline bounds the wait for a guest's marker.
const bootDeadline = 30 * time.Second

// cycleSample is one start and stop of one guest, times in ms. NaN marks a
// figure that does not exist for the peer.
type cycleSample struct {
	StartMarker float64 // start command spawned -> /marker/booted exists
	StartExec   float64 // start command spawned -> the guest's init exec'd
	StartReturn float64 // start command spawned -> it returned
	StopReturn  float64 // stop began -> stop command returned
	StopGone    float64 // stop began -> supervisor and init both gone
	// graceful only: stop began -> rcK wrote /marker/shutdown, and
	// stop began -> init exited. InitExit - ShutdownMarker is busybox
	// init's own shutdown (its sleeps); the rest is the manager's.
	ShutdownMarker float64
	InitExit       float64
	Mem            *memSample
}

// memSample is the memory of one running guest, sampled after boot.
type memSample struct {
	Sup, Init, Tree Rollup
	TreeProcs       int
}

// bootGuest starts g and waits for its marker; it fills g.sup and g.init.
func bootGuest(p peer, g *guest) (marker, ret, execd time.Duration, err error) {
	_ = os.Remove(g.marker())
	_ = os.Remove(g.shutdown())
	execd = -1
	ew, werr := newExecWatch(g.initPath())
	if werr != nil {
		logf("%s: %v", p.name(), werr)
	} else {
		defer ew.close()
	}
	cmd := p.startCmd(g)
	t0 := time.Now()
	exited, err := startLogged(cmd, filepath.Join(g.dir, "start.log"))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%s: start: %w", p.name(), err)
	}
	g.cmd, g.exited = cmd, exited
	ret = -1
	retCh := make(chan time.Duration, 1)
	if p.detached() {
		go func() {
			<-exited
			retCh <- time.Since(t0)
		}()
	}
	seen, merr := waitFile(g.marker(), bootDeadline)
	if p.detached() {
		select {
		case ret = <-retCh:
		case <-time.After(bootDeadline):
			return 0, 0, 0, fmt.Errorf("%s: start command did not return within %v", p.name(), bootDeadline)
		}
		if !cmd.ProcessState.Success() {
			b, _ := os.ReadFile(filepath.Join(g.dir, "start.log"))
			return 0, 0, 0, fmt.Errorf("%s: start failed (%v): %s", p.name(), cmd.ProcessState, lastLines(string(b), 5))
		}
	}
	if merr != nil {
		return 0, 0, 0, fmt.Errorf("%s: %w", p.name(), merr)
	}
	g.startOK = true
	marker = seen.Sub(t0)
	if ew != nil {
		if t, ok := ew.wait(time.Second); ok {
			execd = t.Sub(t0)
		}
	}
	g.sup, g.init, err = p.procs(g)
	if err != nil {
		return marker, ret, execd, fmt.Errorf("%s: find processes: %w", p.name(), err)
	}
	return marker, ret, execd, nil
}

// stopGuest stops g and waits until its supervisor and init are gone.
func stopGuest(p peer, g *guest, forced bool, s *cycleSample) error {
	s.ShutdownMarker, s.InitExit = math.NaN(), math.NaN()
	initExit := watchExit(g.init, bootDeadline+cmdTimeout)
	shutdownSeen := make(chan time.Time, 1)
	t0 := time.Now()
	if !forced {
		go func() {
			if t, err := waitFile(g.shutdown(), bootDeadline); err == nil {
				shutdownSeen <- t
			}
			close(shutdownSeen)
		}()
	}
	err := p.stop(g, forced)
	s.StopReturn = ms(time.Since(t0))
	if err != nil {
		return fmt.Errorf("%s: stop: %w", p.name(), err)
	}
	sup := g.sup
	if k, ok := p.(interface{ keepsSupervisor() bool }); ok && k.keepsSupervisor() {
		sup = 0 // the supervisor hosts another guest and stays
	}
	if err := waitGone(cmdTimeout, sup, g.init); err != nil {
		return fmt.Errorf("%s: after stop: %w", p.name(), err)
	}
	s.StopGone = ms(time.Since(t0))
	if t, ok := <-initExit; ok {
		s.InitExit = ms(t.Sub(t0))
	}
	if !forced {
		if t, ok := <-shutdownSeen; ok {
			s.ShutdownMarker = ms(t.Sub(t0))
		}
	}
	if g.exited != nil {
		select {
		case <-g.exited:
		case <-time.After(cmdTimeout):
			return fmt.Errorf("%s: start command still running after stop", p.name())
		}
	}
	g.startOK = false
	return nil
}

// sampleMemory reads the rollups of g's supervisor, init and whole tree.
func sampleMemory(g *guest) (*memSample, error) {
	sup, err := readRollup(g.sup)
	if err != nil {
		return nil, err
	}
	init, err := readRollup(g.init)
	if err != nil {
		return nil, err
	}
	tree, n, err := treeRollup(g.sup)
	if err != nil {
		return nil, err
	}
	return &memSample{Sup: sup, Init: init, Tree: tree, TreeProcs: n}, nil
}

// cycle boots g, samples its memory settle after the marker, and stops it.
func cycle(p peer, g *guest, forced bool, settle time.Duration) (cycleSample, error) {
	var s cycleSample
	marker, ret, execd, err := bootGuest(p, g)
	if err != nil {
		p.cleanupGuest(g)
		return s, err
	}
	s.StartMarker, s.StartReturn, s.StartExec = ms(marker), math.NaN(), math.NaN()
	if ret >= 0 {
		s.StartReturn = ms(ret)
	}
	if execd >= 0 {
		s.StartExec = ms(execd)
	}
	if settle > 0 {
		time.Sleep(settle)
		if m, err := sampleMemory(g); err == nil {
			s.Mem = m
		} else {
			logf("%s: memory sample: %v", p.name(), err)
		}
	}
	if err := stopGuest(p, g, forced, &s); err != nil {
		p.cleanupGuest(g)
		return s, err
	}
	return s, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
