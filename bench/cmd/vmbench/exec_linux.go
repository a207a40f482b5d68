package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// live holds the commands startLogged started that have not exited yet, so
// that an interrupted run can end them before it tears the peers down (a
// start command still queued would otherwise boot a guest afterwards).
var live = struct {
	sync.Mutex
	cmds map[*exec.Cmd]bool
	// stopping is set by killLive: from then on no command that starts a
	// guest runs (startsGuest), so that the clean-up's destroys are the
	// last word; the sections' goroutines may still be running when a
	// signal's clean-up begins. Such a start waits until done is closed
	// (the clean-up finished: the process exits after a signal's), so
	// that the section stops there instead of making more guest
	// directories in the scratch directory that the clean-up removes.
	stopping bool
	done     chan struct{}
	closed   bool
}{cmds: map[*exec.Cmd]bool{}, done: make(chan struct{})}

// cleanupDone releases the starts that wait for the clean-up's end.
func cleanupDone() {
	live.Lock()
	defer live.Unlock()
	if !live.closed {
		live.closed = true
		close(live.done)
	}
}

// errStopping is a guest start's error once the clean-up has begun.
var errStopping = errors.New("the run is being cleaned up: no guest starts")

// startsGuest says whether a command line starts a guest (or makes a
// running one): vmlite, virsh and machinectl verbs, LXC's tools.
func startsGuest(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch filepath.Base(args[0]) {
	case "lxc-start", "lxc-execute", "systemd-nspawn":
		return true
	}
	for _, a := range args[1:] {
		switch a {
		case "start", "create", "reboot", "resume":
			return true
		}
	}
	return false
}

// track registers a started command with live, unless the clean-up has
// begun and it starts a guest (then it is not started). Under live's
// lock, so that killLive either sees it or it never runs.
func track(cmd *exec.Cmd, start func() error) error {
	live.Lock()
	if live.stopping && startsGuest(cmd.Args) {
		done := live.done
		live.Unlock()
		<-done
		return fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), errStopping)
	}
	defer live.Unlock()
	if err := start(); err != nil {
		return err
	}
	live.cmds[cmd] = true
	return nil
}

// untrack forgets a command that has been reaped.
func untrack(cmd *exec.Cmd) {
	live.Lock()
	delete(live.cmds, cmd)
	live.Unlock()
}

// killLive ends every command still running from startLogged: SIGTERM,
// then SIGKILL after 5 s. Only processes this harness started, by pid.
func killLive() {
	live.Lock()
	live.stopping = true
	var cmds []*exec.Cmd
	for c := range live.cmds {
		cmds = append(cmds, c)
	}
	live.Unlock()
	for _, c := range cmds {
		_ = c.Process.Signal(syscall.SIGTERM)
	}
	end := time.Now().Add(5 * time.Second)
	for _, c := range cmds {
		for time.Now().Before(end) {
			live.Lock()
			running := live.cmds[c]
			live.Unlock()
			if !running {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		live.Lock()
		if live.cmds[c] {
			_ = c.Process.Kill()
		}
		live.Unlock()
	}
}

// cmdTimeout bounds every helper command the harness runs.
const cmdTimeout = 60 * time.Second

// run runs a command to completion, at most cmdTimeout, and returns its
// combined output. Output goes through a file, not a pipe: a daemonizing
// command (lxc-start, libvirtd) may leave a child holding its stdout, and
// a pipe would keep us waiting for that child.
func run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	return runCmd(cmd)
}

// runCmd runs a prepared command with its output collected in a file.
func runCmd(cmd *exec.Cmd) (string, error) {
	out, err := os.CreateTemp("", "vmbench-out-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err = track(cmd, cmd.Start); err == nil {
		err = cmd.Wait()
		untrack(cmd)
	}
	b, _ := os.ReadFile(out.Name())
	s := strings.TrimSpace(string(b))
	if err != nil {
		return s, fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, lastLines(s, 5))
	}
	return s, nil
}

// starters start the commands of a peer that starts them its own way
// (nspawn: in the run's own cgroup); startLogged takes each once.
var starters sync.Map // *exec.Cmd -> func(*exec.Cmd) error

// startCmd starts cmd with its output in logPath and a goroutine reaping
// it; exited is closed once it has been reaped.
func startLogged(cmd *exec.Cmd, logPath string) (exited chan struct{}, err error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if cmd.SysProcAttr == nil {
		// Its own process group: a ^C to the harness reaches the harness,
		// which cleans up in order, not every guest at once.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	start := cmd.Start
	if f, ok := starters.LoadAndDelete(cmd); ok {
		start = func() error { return f.(func(*exec.Cmd) error)(cmd) }
	}
	if err := track(cmd, start); err != nil {
		return nil, err
	}
	exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		untrack(cmd)
		close(exited)
	}()
	return exited, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// dpkgVersion is the installed version of a Debian package, or "".
func dpkgVersion(pkg string) string {
	out, err := run("dpkg-query", "-W", "-f=${Version}", pkg)
	if err != nil {
		return ""
	}
	return out
}

// ensurePackages installs the Debian packages that are missing.
func ensurePackages(pkgs ...string) error {
	var missing []string
	for _, p := range pkgs {
		out, err := run("dpkg-query", "-W", "-f=${Status}", p)
		if err != nil || !strings.Contains(out, "install ok installed") {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	logf("installing %s", strings.Join(missing, " "))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	upd := exec.CommandContext(ctx, "apt-get", "update", "-qq")
	if _, err := runCmd(upd); err != nil {
		return err
	}
	inst := exec.CommandContext(ctx, "apt-get", append([]string{"install", "-y", "-qq", "--no-install-recommends"}, missing...)...)
	inst.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	_, err := runCmd(inst)
	return err
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "vmbench: "+format+"\n", args...)
}
