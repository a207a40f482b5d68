package cli

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reapSupervisors collects the exit status of supervisors the daemon
// started. A supervisor outlives the command that starts it (the CLI
// exits and init adopts it), but the daemon lives on, so each supervisor
// that ends would stay a zombie child of the daemon. Only zombies that are
// vmlite processes and were zombies at the previous look are reaped: an
// exec.Cmd waiting for its own child reaps it at once, and is never robbed.
func reapSupervisors(ctx context.Context) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGCHLD)
	defer signal.Stop(sig)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	self := strconv.Itoa(os.Getpid())
	comm := ""
	if b, err := os.ReadFile("/proc/self/comm"); err == nil {
		comm = strings.TrimSpace(string(b))
	}
	seen := map[int]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
		case <-tick.C:
		}
		now := map[int]bool{}
		for _, pid := range children() {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if err != nil {
				continue
			}
			s := string(b)
			open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
			if open < 0 || end < open {
				continue
			}
			f := strings.Fields(s[end+1:])
			if len(f) < 2 || f[0] != "Z" || f[1] != self || s[open+1:end] != comm {
				continue
			}
			if seen[pid] {
				var ws unix.WaitStatus
				_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
				continue
			}
			now[pid] = true
		}
		seen = now
	}
}

// children lists the daemon's child processes (of all its threads).
func children() []int {
	var out []int
	files, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, w := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(w); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}
