//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// listState is the guest's state as `vmlite list --json` shows it.
func (h *harness) listState(name string) string {
	h.t.Helper()
	r := h.must("list", "--all", "--json")
	var rows []struct {
		Name  string `json:"name"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		h.t.Fatalf("decode list: %v\n%s", err, r.stdout)
	}
	for _, row := range rows {
		if row.Name == name {
			return row.State
		}
	}
	return ""
}

// TestStateFileTruncated: a running guest's state.json torn (a crash or a
// full disk mid-write) or stale ("starting") does not make list and exec
// disagree with the supervisor: its word wins.
func TestStateFileTruncated(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("torn")
	x, _ := h.busybox(name, false)
	h.must("start", x)
	h.waitState(name, "running")
	sf := filepath.Join(h.root, "run", "guests", name, "state.json")
	good, err := os.ReadFile(sf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ what, content string }{
		{"truncated", string(good[:len(good)/2])},
		{"empty", ""},
		{"stale starting", strings.Replace(string(good), `"status": "running"`, `"status": "starting"`, 1)},
	} {
		if err := os.WriteFile(sf, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := h.listState(name); got != "running" {
			t.Errorf("%s state.json: list says %q, want running", tc.what, got)
		}
		if r := h.run("exec", name, "--", "true"); r.code != 0 {
			t.Errorf("%s state.json: exec: %v", tc.what, r)
		}
		if s := h.status(name); s.State != "running" {
			t.Errorf("%s state.json: status %+v", tc.what, s)
		}
	}
}

// TestStateFileDiskFull: with the state root's filesystem full, a guest
// that reboots keeps running and list and exec follow its supervisor (not
// the stale file); once space is freed the supervisor's retry brings
// state.json up to date. The filesystem is a small tmpfs the test mounts
// over its own state root and removes.
func TestStateFileDiskFull(t *testing.T) {
	h := newHarness(t)
	// Only the runtime tree (state.json) on the small filesystem: the
	// console log's rotation elsewhere must not free space meanwhile.
	run := filepath.Join(h.root, "run")
	mountTmpfs(t, h, run, "8m")
	name := h.uniqueName("full")
	t.Cleanup(func() { h.run("destroy", name) }) // before the unmount (registered first, runs last)
	x, _ := h.busybox(name, false)
	noProcFS(t, x)
	h.must("start", x)
	before := h.waitState(name, "running")

	filler := filepath.Join(run, "filler")
	fillDisk(t, filler)
	h.run("exec", name, "--", "reboot") // the guest's init reboots: a new init, a state change
	var now statusOf
	testutil.WaitFor(t, 60*time.Second, "the guest back from its reboot", func() bool {
		now = h.status(name)
		return now.State == "running" && now.Restarts == 1 && now.InitPID != before.InitPID
	})
	sf := filepath.Join(h.root, "run", "guests", name, "state.json")
	if b, err := os.ReadFile(sf); err == nil && strings.Contains(string(b), `"restarts": 1`) {
		t.Fatalf("state.json was written although the disk is full (the test proves nothing):\n%s", b)
	}
	if got := h.listState(name); got != "running" {
		t.Errorf("disk full: list says %q, want running", got)
	}
	if r := h.run("exec", name, "--", "true"); r.code != 0 {
		t.Errorf("disk full: exec after the reboot: %v", r)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "state.json rewritten once space is free", func() bool {
		b, err := os.ReadFile(sf)
		return err == nil && strings.Contains(string(b), `"restarts": 1`)
	})
}

// fillDisk writes path until its filesystem is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	// Tail blocks that a smaller write can still take.
	for n := 1 << 19; n >= 1; n /= 2 {
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
}

// TestStartDiskFull: a start on a full state root fails (exit non-zero,
// naming the step) and leaves nothing behind: no run/guests/NAME with its
// lock or plan.json, no cgroup, no process.
func TestStartDiskFull(t *testing.T) {
	h := newHarness(t)
	mountTmpfs(t, h, h.root, "8m")
	for _, idmap := range []bool{false, true} {
		name := h.uniqueName("enospc")
		x, _ := h.busybox(name, idmap)
		noProcFS(t, x)
		// The layout exists (as after any earlier command), then the disk fills.
		h.must("list")
		filler := filepath.Join(h.root, "filler")
		fillDisk(t, filler)
		r := h.run("start", x)
		if r.code == 0 {
			t.Fatalf("start on a full disk succeeded: %v", r)
		}
		if ents, err := os.ReadDir(filepath.Join(h.root, "run", "guests")); err == nil && len(ents) > 0 {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Errorf("idmap %v: the failed start left run/guests/%v (%s)", idmap, names, strings.TrimSpace(r.stderr))
		}
		h.assertGone(name)
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKilledStartLeftovers: what a start killed before its supervisor took
// over leaves (run/guests/NAME with its lock and plan.json) goes with
// `destroy NAME`, and a new start of the name is not hindered by it.
func TestKilledStartLeftovers(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("kill")
	x, _ := h.busybox(name, false)
	dir := filepath.Join(h.root, "run", "guests", name)
	leave := func() {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"lock", "plan.json"} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	leave()
	h.run("destroy", name) // not running: its exit status says so
	if dirExists(dir) {
		t.Errorf("destroy left the leftovers of a killed start in %s", dir)
	}
	leave()
	h.must("start", x)
	h.waitState(name, "running")
	h.must("destroy", name)
	h.assertGone(name)
}

// mountTmpfs mounts a small tmpfs of the test's own at dir (under the
// harness's root) and unmounts it at the end, once the guests' supervisors
// (and a /proc server, if one ran) that hold files in it are gone.
func mountTmpfs(t *testing.T, h *harness, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0711"); err != nil {
		t.Fatalf("mount a tmpfs at %s: %v", dir, err)
	}
	t.Cleanup(func() {
		testutil.WaitFor(t, 60*time.Second, "the supervisors and /proc server of the tmpfs root to exit", func() bool {
			return len(supervisorsUnder(h.root)) == 0 && len(procfsServers(h.root)) == 0 && len(procfsMounts(h.root)) == 0
		})
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount the test's tmpfs: %v", err)
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
}

// noProcFS opts a template guest out of the host-wide /proc server (these
// tests are about state files; its FUSE mount would sit in their tmpfs).
func noProcFS(t *testing.T, xmlPath string) {
	t.Helper()
	b, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	meta := `<metadata><vmlite:config xmlns:vmlite="urn:vmlite:domain:1"><vmlite:procfs state="off"/></vmlite:config></metadata>`
	if err := os.WriteFile(xmlPath, bytes.Replace(b, []byte("</name>"), []byte("</name>\n  "+meta), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}
