package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// nspawnPeer runs systemd-nspawn in the foreground as anchors.md records:
// no machined here, so --register=no --keep-unit; busybox init ignores
// SIGRTMIN+3, so --kill-signal=SIGUSR2 (poweroff).
type nspawnPeer struct {
	// killSignal is what nspawn sends the guest's init on SIGTERM; ""
	// is SIGUSR2, busybox's poweroff (systemd's is SIGRTMIN+3).
	killSignal string
	// cg is the run's own cgroup the nspawns start in (nspawncg_linux.go);
	// nil where none could be made: they start where the harness runs, and
	// their cgroups are left alone.
	cg *nspawnCgroup

	// made are the per-machine directories in /run that this run's
	// starts made (none was there before): teardown removes these only.
	// Shared by the copies of the peer a section makes (debian's).
	made *runDirs
}

// runDirs is a set of directories, safe for concurrent use.
type runDirs struct {
	mu   sync.Mutex
	dirs map[string]bool
}

// nspawnRunDirs hold the directory per machine that nspawn makes in /run
// and leaves there (not a tmpfs here).
var nspawnRunDirs = []string{"/run/systemd/nspawn/propagate", "/run/systemd/nspawn/unix-export"}

// noteRunDirs records, before a start of g, which of its per-machine
// directories the start will make.
func (p *nspawnPeer) noteRunDirs(g *guest) {
	if p.made == nil {
		return // not set up
	}
	p.made.mu.Lock()
	defer p.made.mu.Unlock()
	for _, d := range nspawnRunDirs {
		dir := filepath.Join(d, g.name)
		if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			p.made.dirs[dir] = true
		}
	}
}

func (p *nspawnPeer) name() string           { return "nspawn" }
func (p *nspawnPeer) supervisorName() string { return "systemd-nspawn" }
func (p *nspawnPeer) detached() bool         { return false }

func (p *nspawnPeer) versions() map[string]string {
	return map[string]string{"systemd-container": dpkgVersion("systemd-container")}
}

func (p *nspawnPeer) setup(string) error {
	if err := ensurePackages("systemd-container"); err != nil {
		return err
	}
	p.made = &runDirs{dirs: map[string]bool{}}
	cg, err := newNspawnCgroup()
	if err != nil {
		logf("nspawn: no cgroup of this run's own (%v): its guests' cgroups are left where nspawn makes them", err)
		return nil
	}
	p.cg = cg
	return nil
}

// prepare adds /etc/os-release, without which nspawn refuses a directory
// ("doesn't look like it has an OS tree"); the guest never reads it.
func (p *nspawnPeer) prepare(g *guest) error {
	osr := filepath.Join(g.rootfs, "etc", "os-release")
	if _, err := os.Stat(osr); err == nil {
		return nil
	}
	return os.WriteFile(osr, []byte("ID=busybox\nNAME=busybox\n"), 0o644)
}

func (p *nspawnPeer) startCmd(g *guest) *exec.Cmd {
	sig := p.killSignal
	if sig == "" {
		sig = "SIGUSR2"
	}
	cmd := exec.Command("systemd-nspawn", "-q", "-D", g.rootfs, "-b", "-M", g.name,
		"--register=no", "--keep-unit", "--console=read-only", "--kill-signal="+sig)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // as startLogged's default
	p.noteRunDirs(g)
	if p.cg != nil {
		starters.Store(cmd, p.cg.start)
	}
	return cmd
}

func (p *nspawnPeer) procs(g *guest) (int, int, error) {
	if g.cmd == nil || g.cmd.Process == nil {
		return 0, 0, fmt.Errorf("nspawn: not started")
	}
	sup := g.cmd.Process.Pid
	init, err := nsInit(sup)
	return sup, init, err
}

func (p *nspawnPeer) stop(g *guest, forced bool) error {
	if forced {
		if err := unix.Kill(g.init, unix.SIGKILL); err != nil {
			return fmt.Errorf("kill init: %w", err)
		}
	} else if err := g.cmd.Process.Signal(unix.SIGTERM); err != nil {
		return fmt.Errorf("signal nspawn: %w", err)
	}
	select {
	case <-g.exited:
		return nil
	case <-time.After(cmdTimeout):
		return fmt.Errorf("nspawn did not exit within %v", cmdTimeout)
	}
}

func (p *nspawnPeer) gracefulUnsupported() string { return "" }

func (p *nspawnPeer) cleanupGuest(g *guest) {
	if g.cmd == nil || g.cmd.Process == nil || g.exited == nil {
		return
	}
	select {
	case <-g.exited:
		return
	default:
	}
	if g.init > 0 {
		_ = unix.Kill(g.init, unix.SIGKILL)
	}
	_ = g.cmd.Process.Signal(unix.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}

// teardown removes the per-machine directories nspawn left in /run for
// this run's guests (not another run's of the same name), and ends the
// cgroup's starting thread.
func (p *nspawnPeer) teardown() {
	if p.cg != nil {
		p.cg.close()
	}
	if p.made == nil {
		return
	}
	p.made.mu.Lock()
	defer p.made.mu.Unlock()
	for d := range p.made.dirs {
		_ = os.RemoveAll(d)
	}
	p.made.dirs = map[string]bool{}
}
