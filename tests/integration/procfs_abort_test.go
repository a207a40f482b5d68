//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// fuseConnections is where fusectl is mounted (systemd does; this host
// has it unmounted by default).
const fuseConnections = "/sys/fs/fuse/connections"

// startWithFusectl starts a guest from a mount namespace of its own that
// has fusectl mounted: its supervisor (and the /proc server it starts)
// stay in that namespace, which goes with them. The host's mounts are
// untouched.
func (h *harness) startWithFusectl(xmlPath string) {
	h.t.Helper()
	if _, err := os.Stat(fuseConnections); err != nil {
		h.t.Fatalf("%s: %v (the fuse module's sysfs directory: modprobe fuse)", fuseConnections, err)
	}
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		`mount -t fusectl fusectl `+fuseConnections+` && exec "$0" "$@"`, bin, "--root", h.root, "start", xmlPath)
	cmd.Env = append(os.Environ(), h.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		h.t.Fatalf("start %s in a mount namespace with fusectl: %v\n%s", xmlPath, err, out)
	}
}

// logsSay waits until a file of the state root's log directory contains s.
func (h *harness) logsSay(s string) {
	h.t.Helper()
	testutil.WaitFor(h.t, 30*time.Second, "a log saying "+s, func() bool {
		found := false
		_ = filepath.WalkDir(filepath.Join(h.root, "log"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				found = found || strings.Contains(string(b), s)
			}
			return nil
		})
		return found
	})
}

// TestProcFSServerStoppedFusectl: the abort path of the supervisors' guard
// where fusectl is mounted (as systemd mounts it): a guest reads
// /proc/meminfo in a loop, the server is SIGSTOPped, the guard aborts its
// connection through /sys/fs/fuse/connections/N/abort (its log says so)
// and kills it. The loop never hangs (the waiting read fails within a
// deadline), a new server starts and binds its files again, and the
// loop's reads are the guest's again; no read ever shows other numbers.
func TestProcFSServerStoppedFusectl(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-procfs-ctl")
	xmlPath, rootfs := h.procfsGuest(name, false, 70, "")
	h.startWithFusectl(xmlPath)
	defer h.run("destroy", name)
	h.mustWaitMemTotal(name, "71680")
	servers := procfsServers(h.root)
	if len(servers) != 1 {
		t.Fatalf("one /proc server expected, found %v", servers)
	}
	old := servers[0]
	defer func() { _ = syscall.Kill(old, syscall.SIGCONT) }() // never left stopped
	loop := make(chan result, 1)
	go func() {
		// Bounded: it ends on /stop, or after 20000 reads.
		loop <- h.run("exec", name, "--", "sh", "-c",
			`i=0; while [ ! -e /stop ] && [ $i -lt 20000 ]; do grep MemTotal /proc/meminfo 2>/dev/null || echo FAILED; i=$((i+1)); echo $i > /progress; done`)
	}()
	progress := func() int {
		b, _ := os.ReadFile(filepath.Join(rootfs, "progress"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	testutil.WaitFor(t, 60*time.Second, "the guest reading", func() bool { return progress() >= 20 })
	if err := syscall.Kill(old, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stoppedAt := progress()
	h.logsSay("its connection aborted (" + fuseConnections + " [")
	testutil.WaitFor(t, 60*time.Second, "a new /proc server", func() bool {
		s := procfsServers(h.root)
		return len(s) == 1 && s[0] != old
	})
	// The loop went on: the read that waited on the stopped server
	// returned, and reads go on after the new server's binds.
	testutil.WaitFor(t, 60*time.Second, "the guest's reads going on", func() bool { return progress() > stoppedAt+50 })
	h.mustWaitMemTotal(name, "71680")
	if err := os.WriteFile(filepath.Join(rootfs, "stop"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-loop:
	case <-time.After(120 * time.Second):
		t.Fatal("the guest's read loop did not end")
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	failed := 0
	for _, l := range lines {
		if l == "FAILED" {
			failed++
			continue
		}
		if f := strings.Fields(l); len(f) != 3 || f[1] != "71680" {
			t.Errorf("the guest read %q, want MemTotal 71680 kB or a failure", l)
		}
	}
	t.Logf("%d reads, %d failed while no server answered", len(lines), failed)
	if failed == len(lines) {
		t.Errorf("every read failed: %v", r)
	}
	// Served again at the end of the loop: its last read is the guest's.
	if last := lines[len(lines)-1]; last == "FAILED" {
		t.Errorf("the loop's last read failed after the new server started")
	}
}
