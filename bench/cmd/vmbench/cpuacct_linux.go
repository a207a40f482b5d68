package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cpuacctRoot is the v1 cpuacct hierarchy. Where there is none (a cgroup
// v2 host), the density section reports the host-wide CPU only.
const cpuacctRoot = "/sys/fs/cgroup/cpuacct"

// cpuGroup is a cpuacct cgroup the harness makes for one density step: it
// moves itself in while it spawns the start commands, so that they and
// everything they leave behind (vmlite's supervisors, LXC's monitors)
// are accounted there, whatever else runs on the host.
type cpuGroup struct {
	dir  string // the step's cgroup
	home string // the harness's own cgroup, to go back to
}

// enterCPUGroup makes the cgroup name and moves the harness into it.
func enterCPUGroup(name string) (*cpuGroup, error) {
	home, err := cpuacctOf(os.Getpid())
	if err != nil {
		return nil, err
	}
	g := &cpuGroup{dir: filepath.Join(cpuacctRoot, name), home: home}
	if err := os.Mkdir(g.dir, 0o755); err != nil {
		return nil, err
	}
	if err := moveSelf(g.dir); err != nil {
		_ = os.Remove(g.dir)
		return nil, err
	}
	return g, nil
}

// leave moves the harness back to its own cgroup; what it spawned stays.
func (g *cpuGroup) leave() error { return moveSelf(g.home) }

// remove deletes the cgroup once its processes are gone (a stopped
// guest's supervisor may take a moment to exit).
func (g *cpuGroup) remove() error {
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = os.Remove(g.dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	return fmt.Errorf("remove %s: %w", g.dir, err)
}

func moveSelf(dir string) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

// cpuacctOf is the directory of pid's v1 cpuacct cgroup.
func cpuacctOf(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	if p, ok := cpuacctLine(string(b)); ok {
		if _, err := os.Stat(filepath.Join(cpuacctRoot, "cpuacct.usage")); err != nil {
			return "", fmt.Errorf("no v1 cpuacct hierarchy at %s: %w", cpuacctRoot, err)
		}
		return filepath.Join(cpuacctRoot, p), nil
	}
	return "", fmt.Errorf("pid %d: no cpuacct cgroup in /proc/PID/cgroup", pid)
}

// cpuacctLine finds the v1 line naming the cpuacct controller in
// /proc/PID/cgroup's text and returns its path.
func cpuacctLine(s string) (string, bool) {
	for _, line := range strings.Split(s, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == "cpuacct" {
				return f[2], true
			}
		}
	}
	return "", false
}

// cpuacctUsage is the CPU time charged to the cgroup dir and its children.
func cpuacctUsage(dir string) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cpuacct.usage"))
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s/cpuacct.usage: %w", dir, err)
	}
	return time.Duration(ns), nil
}

// outermost drops every directory of dirs that lies inside another one
// of them (cpuacct.usage counts a cgroup's children already).
func outermost(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		inside := false
		for _, o := range dirs {
			if o != d && strings.HasPrefix(d, o+"/") {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, d)
		}
	}
	return out
}

func rusageCPU(r unix.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// addPeerCPU adds the CPU time the peer itself spent on the booted
// guests: the step's cgroup (start commands, supervisors or monitors, and
// the guests' processes before they joined their own cgroups) less the
// harness's own spawning, plus the cgroups its guests, supervisors and
// monitors moved to.
func (b *BootCPU) addPeerCPU(p peer, guests []*guest, step string, selfSpawn time.Duration) {
	dirs := []string{step}
	booted := 0
	for _, g := range guests {
		if !g.startOK {
			continue
		}
		booted++
		sup, init, err := p.procs(g)
		if err != nil {
			continue
		}
		for _, pid := range []int{sup, init} {
			if d, err := cpuacctOf(pid); err == nil && d != cpuacctRoot {
				dirs = append(dirs, d)
			}
		}
	}
	seen := map[string]bool{}
	var all, own time.Duration
	for _, d := range outermost(dirs) {
		if seen[d] {
			continue
		}
		seen[d] = true
		u, err := cpuacctUsage(d)
		if err != nil {
			return
		}
		all += u
		if d != step {
			own += u
		}
	}
	if booted == 0 {
		return
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(booted) }
	b.PeerMsPerGuest, b.PeerGuestCgMsPerGuest, b.HasPeerCPU = per(all-selfSpawn), per(own), true
}
