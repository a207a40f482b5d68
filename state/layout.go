// Package state owns vmlite's on-disk layout: persistent definitions, the
// per-guest runtime directory, its lock and its state file.
//
// Layout (Root = "/" unless --root DIR or VMLITE_ROOT moves everything):
//
//	/var/lib/vmlite/domains/NAME.xml     persistent definitions (define)
//	/var/lib/vmlite/networks/NAME.xml    network definitions (net-define)
//	/var/lib/vmlite/autostart/NAME       autostart marker (empty file)
//	/var/lib/vmlite/last/NAME.json       the last run's final state (status of a stopped guest)
//	/var/lib/vmlite/images/              the image store (package image: layers, configs, index)
//	/var/lib/vmlite/layers/NAME/         a guest's own copy-on-write layer over its image (upper, work)
//	/var/log/vmlite/NAME.console.log     console log, outlives the guest
//	/var/log/vmlite/NAME.supervisor.log  the supervisor's own diagnostics
//	/run/vmlite/guests/NAME/lock         flock()ed by the supervisor for its whole life
//	/run/vmlite/guests/NAME/state.json   current state, written atomically
//	/run/vmlite/guests/NAME/control.sock the supervisor's control socket (root only)
//	/run/vmlite/guests/NAME/consoleN.sock console N's multiplexer socket (root only)
//	/run/vmlite/guests/NAME/plan.json    the launch plan the guest runs with
//	/run/vmlite/guests/NAME/domain.xml   the live domain XML (dumpxml of a running guest)
//	/run/vmlite/guests/NAME/root/        where the guest's root is attached (in its own mount namespace)
//	/run/vmlite/guests/NAME/limits.json  limits changed live (setmem, memtune, schedinfo; cgroup.LiveFile)
//	/run/vmlite/networks/NAME/           a running network's state (package netdef)
//	/run/vmlite/sv-ID-N.sock             a shared supervisor with room for guests (ID: the binary's)
//	/run/vmlite/supervisors.lock         serialises starting shared supervisors
//	/var/lib/vmlite/bin/init-ID          vmlite-init written out of vmlite (supervisor/initbin_linux.go)
//	/var/log/vmlite/supervisors.log      shared supervisors' own stderr
//	/run/vmlite/procfs/                  the host-wide /proc server (package procfs: its locks, registry, mount)
//	/var/log/vmlite/procfs.log           the /proc server's own diagnostics
//	/run/vmlite-idmap/                   host ids held by running guests, whatever --root says (package uidmap)
//
// With --root DIR the three trees become DIR/lib, DIR/log and DIR/run.
//
// A runtime directory whose lock is free belongs to a dead supervisor: it is
// stale, and Cleanup/Stale find it.
package state

import (
	"fmt"
	"os"
	"path/filepath"
)

// Layout holds the roots of the three trees.
type Layout struct {
	Lib string // persistent data
	Log string // logs
	Run string // runtime state
}

// NewLayout returns the layout for root; "" means the system paths.
func NewLayout(root string) Layout {
	if root == "" {
		return Layout{Lib: "/var/lib/vmlite", Log: "/var/log/vmlite", Run: "/run/vmlite"}
	}
	return Layout{Lib: filepath.Join(root, "lib"), Log: filepath.Join(root, "log"), Run: filepath.Join(root, "run")}
}

// DomainsDir holds NAME.xml definitions.
func (l Layout) DomainsDir() string { return filepath.Join(l.Lib, "domains") }

// DomainFile is the stored definition of name.
func (l Layout) DomainFile(name string) string { return filepath.Join(l.DomainsDir(), name+".xml") }

// ImagesDir is the image store (package image).
func (l Layout) ImagesDir() string { return filepath.Join(l.Lib, "images") }

// GuestLayersDir holds the guests' own copy-on-write layers.
func (l Layout) GuestLayersDir() string { return filepath.Join(l.Lib, "layers") }

// GuestLayerDir is name's copy-on-write layer over its image.
func (l Layout) GuestLayerDir(name string) string { return filepath.Join(l.GuestLayersDir(), name) }

// NetworksDir holds NAME.xml network definitions.
func (l Layout) NetworksDir() string { return filepath.Join(l.Lib, "networks") }

// AutostartFile marks name for autostart.
func (l Layout) AutostartFile(name string) string { return filepath.Join(l.Lib, "autostart", name) }

// LastFile records the final state of name's last run.
func (l Layout) LastFile(name string) string { return filepath.Join(l.Lib, "last", name+".json") }

// ConsoleLog is name's console log.
func (l Layout) ConsoleLog(name string) string { return filepath.Join(l.Log, name+".console.log") }

// SupervisorLog is name's supervisor diagnostics log.
func (l Layout) SupervisorLog(name string) string {
	return filepath.Join(l.Log, name+".supervisor.log")
}

// GuestsRunDir holds the guests' runtime directories (networks keep theirs
// beside it, in Run/networks).
func (l Layout) GuestsRunDir() string { return filepath.Join(l.Run, "guests") }

// RunDir is name's runtime directory.
func (l Layout) RunDir(name string) string { return filepath.Join(l.GuestsRunDir(), name) }

// LockName is the lock file's name in a guest's runtime directory.
const LockName = "lock"

// LockFile is name's lock.
func (l Layout) LockFile(name string) string { return filepath.Join(l.RunDir(name), LockName) }

// StateFile is name's state.json.
func (l Layout) StateFile(name string) string { return filepath.Join(l.RunDir(name), "state.json") }

// ControlSocket is name's control socket.
func (l Layout) ControlSocket(name string) string {
	return filepath.Join(l.RunDir(name), "control.sock")
}

// ConsoleSocket is the socket of console dev ("console0", "console1", ...).
func (l Layout) ConsoleSocket(name, dev string) string {
	return filepath.Join(l.RunDir(name), dev+".sock")
}

// PlanFile is the launch plan of a running guest.
func (l Layout) PlanFile(name string) string { return filepath.Join(l.RunDir(name), "plan.json") }

// LiveXML is the domain XML of a running guest.
func (l Layout) LiveXML(name string) string { return filepath.Join(l.RunDir(name), "domain.xml") }

// InitBinDir holds vmlite-init, written out of vmlite once per build: on
// disk rather than in Run, whose tmpfs would pin its pages as Shmem.
func (l Layout) InitBinDir() string { return filepath.Join(l.Lib, "bin") }

// ProcFSDir is the host-wide /proc server's directory (package procfs).
func (l Layout) ProcFSDir() string { return filepath.Join(l.Run, "procfs") }

// ProcFSLog is the /proc server's diagnostics log.
func (l Layout) ProcFSLog() string { return filepath.Join(l.Log, "procfs.log") }

// Ensure creates the directories of the layout.
func (l Layout) Ensure() error {
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{
		{l.DomainsDir(), 0o755}, {l.NetworksDir(), 0o755}, {filepath.Join(l.Lib, "autostart"), 0o755},
		{filepath.Join(l.Lib, "last"), 0o755}, {l.Log, 0o750}, {l.Run, RunDirMode},
	} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return fmt.Errorf("create %s: %w", d.path, err)
		}
	}
	// The run tree is ours: older versions made it 0700, which a mapped
	// guest's root cannot traverse.
	for _, d := range []string{l.Run, l.GuestsRunDir()} {
		if err := os.MkdirAll(d, RunDirMode); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
		if err := os.Chmod(d, RunDirMode); err != nil {
			return fmt.Errorf("set mode of %s: %w", d, err)
		}
	}
	return nil
}
