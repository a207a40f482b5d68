package main

import (
	"os/exec"
	"path/filepath"
)

// guest is one container of one peer: its rootfs copy, its config and,
// while it runs, its processes.
type guest struct {
	name   string
	rootfs string
	dir    string // the peer's per-guest scratch directory (configs, logs)
	// cmd is the start command; for a peer whose start command stays in
	// the foreground (nspawn) it is the supervisor itself.
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	sup     int
	init    int
	startOK bool
	// initBin is the guest's init binary inside the rootfs, whose first
	// open (its exec) the harness watches; "" is busybox's.
	initBin string
}

func (g *guest) marker() string   { return filepath.Join(g.rootfs, "marker", "booted") }
func (g *guest) shutdown() string { return filepath.Join(g.rootfs, "marker", "shutdown") }

// initPath is the host path of the guest's init binary.
func (g *guest) initPath() string {
	if g.initBin == "" {
		return filepath.Join(g.rootfs, "bin", "busybox")
	}
	return filepath.Join(g.rootfs, g.initBin)
}

// peer is one container manager under test. Every method is bounded in
// time; none leaves anything behind once teardown returns.
type peer interface {
	// name is the short label in the results ("vmlite", "lxc", ...).
	name() string
	// supervisorName says which process is the per-guest supervisor.
	supervisorName() string
	// versions lists the versions of the packages or binary the peer runs.
	versions() map[string]string
	// setup prepares the peer once (daemons, directories).
	setup(work string) error
	// prepare writes g's configuration.
	prepare(g *guest) error
	// startCmd is the command that boots g.
	startCmd(g *guest) *exec.Cmd
	// detached says whether the start command returns once the guest
	// runs (true) or stays as its supervisor (false: nspawn).
	detached() bool
	// procs finds g's supervisor and init once it has booted.
	procs(g *guest) (sup, init int, err error)
	// stop stops g, gracefully or forced, and returns when the stop command
	// does (for nspawn: when nspawn exits).
	stop(g *guest, forced bool) error
	// gracefulUnsupported says why a graceful stop cannot work, or "".
	gracefulUnsupported() string
	// cleanupGuest removes whatever g left (after a failure), quietly.
	cleanupGuest(g *guest)
	// teardown undoes setup.
	teardown()
}
