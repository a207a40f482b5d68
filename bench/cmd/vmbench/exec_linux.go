package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
}{cmds: map[*exec.Cmd]bool{}}

// killLive ends every command still running from startLogged: SIGTERM,
// then SIGKILL after 5 s. Only processes this harness started, by pid.
func killLive() {
	live.Lock()
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
	err = cmd.Run()
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
	if err := start(); err != nil {
		return nil, err
	}
	live.Lock()
	live.cmds[cmd] = true
	live.Unlock()
	exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		live.Lock()
		delete(live.cmds, cmd)
		live.Unlock()
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
