package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// vmlitePeer drives bin/vmlite with its own --root (VMLITE_ROOT) in the
// work directory.
type vmlitePeer struct {
	// label names the peer: "vmlite", "vmlite-dedicated" (the same build
	// with a supervisor process per guest), or "vmlite-base" for another
	// build compared side by side (-compare).
	label string
	// extraEnv is added to every command's environment.
	extraEnv []string
	// anchor: another guest runs in the supervisor all the time, so every
	// measured start joins a running shared supervisor ("vmlite-joined")
	// instead of starting one (a shared supervisor ends with its last guest).
	anchor   bool
	anchorUp bool
	work     string
	bin      string
	root     string
	tmplXML  string // the domain XML `vmlite template busybox` wrote
	version  string
	// runMounted: the tmpfs at root/run (below) is mounted.
	runMounted bool
	// left are the guests teardown could not destroy: the state root
	// stays (bench.cleanup).
	left []string
}

func (p *vmlitePeer) name() string           { return p.label }
func (p *vmlitePeer) supervisorName() string { return "vmlite __supervise" }
func (p *vmlitePeer) detached() bool         { return true }

func (p *vmlitePeer) versions() map[string]string {
	return map[string]string{p.label: p.version}
}

func (p *vmlitePeer) env() []string {
	return append(append(os.Environ(), "VMLITE_ROOT="+p.root), p.extraEnv...)
}

func (p *vmlitePeer) cmd(args ...string) *exec.Cmd {
	c := exec.Command(p.bin, args...)
	c.Env = p.env()
	return c
}

// cmdContext is cmd, killed when ctx ends.
func (p *vmlitePeer) cmdContext(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, p.bin, args...)
	c.Env = p.env()
	return c
}

// makeRootfs runs `vmlite template busybox --no-idmap dir`: the one rootfs
// every peer boots (each from its own copy). No idmap, because LXC,
// nspawn and libvirt boot it without a user namespace by default too.
func (p *vmlitePeer) makeRootfs(dir string) error {
	c := p.cmd("template", "busybox", "--no-idmap", dir)
	out, err := os.CreateTemp("", "vmbench-xml-*")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	c.Stdout = out
	var stderr strings.Builder
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("vmlite template busybox: %w: %s", err, stderr.String())
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		return err
	}
	p.tmplXML = string(b)
	return nil
}

func (p *vmlitePeer) setup(work string) error {
	p.work = work
	p.root = filepath.Join(work, p.label+"-root")
	if err := os.MkdirAll(p.root, 0o755); err != nil {
		return err
	}
	// RUN on a tmpfs of its own, as /run is on a real host (not on this
	// VM, whose /run is the root's ext4): the runtime files then count as
	// Shmem, as they would there, and the density breakdown can read
	// their size from the filesystem.
	run := filepath.Join(p.root, "run")
	if err := os.MkdirAll(run, 0o711); err != nil {
		return err
	}
	if err := unix.Mount("vmbench-run", run, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=711"); err != nil {
		return fmt.Errorf("tmpfs on %s: %w", run, err)
	}
	p.runMounted = true
	h := sha256File(p.bin)
	p.version = "binary " + h
	if p.label == "vmlite" || p.label == "vmlite-dedicated" || p.label == "vmlite-joined" || p.label == "vmlite-joined-stage" {
		p.version = "git " + gitDescribe() + ", " + p.version
	}
	return nil
}

var (
	nameRE   = regexp.MustCompile(`<name>[^<]*</name>`)
	sourceRE = regexp.MustCompile(`<source dir="[^"]*">`)
)

// guestXML is the template's domain XML with another name and rootfs.
func guestXML(tmpl, name, rootfs string) string {
	x := nameRE.ReplaceAllLiteralString(tmpl, "<name>"+name+"</name>")
	return sourceRE.ReplaceAllLiteralString(x, `<source dir="`+rootfs+`">`)
}

func (p *vmlitePeer) prepare(g *guest) error {
	if p.tmplXML == "" {
		return fmt.Errorf("vmlite: no template XML (makeRootfs not run)")
	}
	if p.anchor && !p.anchorUp {
		if err := p.startAnchor(); err != nil {
			return fmt.Errorf("anchor guest: %w", err)
		}
	}
	return os.WriteFile(filepath.Join(g.dir, "domain.xml"), []byte(guestXML(p.tmplXML, g.name, g.rootfs)), 0o644)
}

func (p *vmlitePeer) startCmd(g *guest) *exec.Cmd {
	return p.cmd("start", filepath.Join(g.dir, "domain.xml"))
}

func (p *vmlitePeer) procs(g *guest) (int, int, error) {
	out, err := runCmd(p.cmd("status", g.name, "--json"))
	if err != nil {
		return 0, 0, err
	}
	var st struct {
		SupervisorPID int `json:"supervisorPid"`
		InitPID       int `json:"initPid"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return 0, 0, fmt.Errorf("vmlite status: %w", err)
	}
	return st.SupervisorPID, st.InitPID, nil
}

func (p *vmlitePeer) stop(g *guest, forced bool) error {
	op := "stop"
	if forced {
		op = "destroy"
	}
	_, err := runCmd(p.cmd(op, g.name))
	return err
}

func (p *vmlitePeer) gracefulUnsupported() string { return "" }

func (p *vmlitePeer) cleanupGuest(g *guest) { _, _ = runCmd(p.cmd("destroy", g.name)) }

// keepsSupervisor: with an anchor guest the supervisor outlives a stop.
func (p *vmlitePeer) keepsSupervisor() bool { return p.anchor }

// startAnchor boots the anchor guest from a copy of the peer's base.
func (p *vmlitePeer) startAnchor() error {
	rootfs := filepath.Join(p.work, p.label+"-anchor-rootfs")
	if _, err := run("cp", "-a", filepath.Join(p.work, p.label+"-base"), rootfs); err != nil {
		return err
	}
	xml := filepath.Join(p.work, p.label+"-anchor.xml")
	if err := os.WriteFile(xml, []byte(guestXML(p.tmplXML, "vmb-anchor", rootfs)), 0o644); err != nil {
		return err
	}
	if _, err := runCmd(p.cmd("start", xml)); err != nil {
		return err
	}
	p.anchorUp = true
	return nil
}

func (p *vmlitePeer) teardown() {
	if p.root == "" {
		return
	}
	// Any guest still running (after an interrupted run, a failed
	// section) is destroyed; the run's clean-up removes the state root
	// only if none is left (bench.cleanup).
	p.left = p.destroyAll(teardownWait)
	if len(p.left) > 0 {
		// Their supervisors' sockets and the /proc server are on it.
		logf("%s: guests %v still run from %s: left as they are", p.label, p.left, p.root)
		return
	}
	if p.runMounted {
		// Lazily: the /proc server may still be on its way out.
		if err := unix.Unmount(p.runTmpfs(), unix.MNT_DETACH); err != nil {
			logf("unmount %s: %v", p.runTmpfs(), err)
		}
		p.runMounted = false
	}
}

// teardownWait bounds a peer's destroys at the clean-up: bench/run.sh
// sends SIGKILL 60 s after its SIGTERM.
var teardownWait = 40 * time.Second

// destroyAll destroys every guest of the peer's state root that is not
// shut off, listing them again after each round until a listing shows
// none or wait has passed (one round at least): a start that was in
// flight when the clean-up began (a section's goroutine) shows up in a
// later listing. It returns the guests left (or why it could not list
// them).
func (p *vmlitePeer) destroyAll(wait time.Duration) []string {
	end := time.Now().Add(wait)
	for round := 0; ; round++ {
		names, err := p.activeGuests()
		if err == nil && len(names) == 0 {
			return nil
		}
		if round > 0 && time.Now().After(end) {
			if err != nil {
				return append(names, fmt.Sprintf("(list: %v)", err))
			}
			return names
		}
		// A few at a time: 200 systemd guests one by one outlast the wait.
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		for _, n := range names {
			sem <- struct{}{}
			wg.Add(1)
			go func(n string) {
				defer func() { <-sem; wg.Done() }()
				if _, err := runCmd(p.cmd("destroy", n)); err != nil {
					logf("%s: %v", p.label, err)
				}
			}(n)
		}
		wg.Wait()
		if err != nil || len(names) == 0 {
			time.Sleep(100 * time.Millisecond) // the listing failed: try again shortly
		}
	}
}

// activeGuests lists the guests of the peer's state root that are not
// shut off.
func (p *vmlitePeer) activeGuests() ([]string, error) {
	c := p.cmd("list", "--all", "--json")
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("vmlite list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var gs []struct {
		Name  string `json:"name"`
		State string `json:"state"`
	}
	if err := json.Unmarshal(out, &gs); err != nil {
		return nil, fmt.Errorf("vmlite list: %w", err)
	}
	var names []string
	for _, g := range gs {
		if g.State != "shutoff" {
			names = append(names, g.Name)
		}
	}
	return names, nil
}

// runTmpfs is the tmpfs of the peer's runtime directory (density breakdown).
func (p *vmlitePeer) runTmpfs() string { return filepath.Join(p.root, "run") }

// sharedMarker is in the command line of the peer's processes outside the
// guests' trees (the /proc server: `vmlite __procfs ROOT/run/procfs ...`).
func (p *vmlitePeer) sharedMarker() string { return p.root + "/" }
