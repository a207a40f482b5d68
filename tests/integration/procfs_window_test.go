//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// execGate is a FUSE filesystem of the test's holding one executable,
// init, whose open by a process of another pid namespace (the guest's
// __init exec'ing it) waits until the test opens the gate. A start whose
// guest init is that file stops there, deterministically, with every set-up
// step before the exec done: the supervisor's clones of the /proc server's
// files made and attached by __init, init's pid not yet registered.
type execGate struct {
	fs.MemRegularFile
	reached chan struct{} // closed at the first gated open
	open    chan struct{} // closed by the test: the open goes on
	once    sync.Once
	myPidNS string
}

var _ fs.NodeOpener = (*execGate)(nil)

func (g *execGate) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if c, ok := fuse.FromContext(ctx); ok {
		ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.Pid))
		if ns != "" && ns != g.myPidNS {
			g.once.Do(func() { close(g.reached) })
			// Not given up on an interrupt: the exec'ing process is a Go
			// program, whose runtime signals its threads (preemption);
			// the kernel goes on waiting for the answer.
			<-g.open
		}
	}
	return g.MemRegularFile.Open(ctx, flags)
}

// mountExecGate mounts an execGate holding script at a new directory.
func mountExecGate(t *testing.T, script string) (dir string, g *execGate) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "gate")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	my, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	g = &execGate{reached: make(chan struct{}), open: make(chan struct{}), myPidNS: my}
	g.Data = []byte(script)
	g.Attr.Mode = 0o755
	sec := time.Duration(0)
	srv, err := fs.Mount(dir, &gateRoot{g: g}, &fs.Options{
		MountOptions: fuse.MountOptions{AllowOther: true, DirectMount: true, FsName: "vmlite-test-gate", Name: "vmlite-test-gate"},
		EntryTimeout: &sec, AttrTimeout: &sec,
	})
	if err != nil {
		t.Fatalf("mount the exec gate: %v", err)
	}
	t.Cleanup(func() {
		g.release()
		if err := srv.Unmount(); err != nil {
			_ = unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir, g
}

func (g *execGate) release() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

type gateRoot struct {
	fs.Inode
	g *execGate
}

func (r *gateRoot) OnAdd(ctx context.Context) {
	r.AddChild("init", r.NewPersistentInode(ctx, r.g, fs.StableAttr{Mode: syscall.S_IFREG}), false)
}

// TestProcFSRestartWindow: the /proc server restarted after the supervisor
// cloned a guest's files (and __init attached those clones) but before
// init's pid is registered. The new server binds its files again only in
// guests with a pid, so this guest's clones are of the dead mount: the
// supervisor, once it registers the pid, sees that the clones' device is
// not the mount's and binds the new server's files itself. The window is
// held open by the guest's init itself: it lives on a FUSE filesystem of
// the test's whose open (the exec) waits until the new server runs.
func TestProcFSRestartWindow(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-procfs-window")
	// A first guest starts the server (and is its first, running guest:
	// the new server binds its files again as usual).
	first := h.uniqueName("it-procfs-window0")
	xml0, _ := h.procfsGuest(first, false, 66, "")
	h.must("start", xml0)
	defer h.run("destroy", first)
	h.mustWaitMemTotal(first, "67584")
	servers := procfsServers(h.root)
	if len(servers) != 1 {
		t.Fatalf("one /proc server expected, found %v", servers)
	}
	old := servers[0]
	var oldDev uint64
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(h.root, "run", "procfs", "mnt"), &st); err != nil {
		t.Fatal(err)
	}
	oldDev = st.Dev

	gate, g := mountExecGate(t, "#!/bin/sh\nexec /sbin/init \"$@\"\n")
	xmlPath, rootfs := h.procfsGuest(name, false, 74, "")
	if err := os.Mkdir(filepath.Join(rootfs, "gate"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, "<init>"), strings.Index(doc, "</init>")
	k := strings.Index(doc, "</devices>")
	if i < 0 || j < i || k < 0 {
		t.Fatalf("no <init> or </devices> in the template's XML:\n%s", doc)
	}
	doc = doc[:i] + "<init>/gate/init</init>" + doc[j+len("</init>"):k] +
		fmt.Sprintf("<filesystem type='mount'><source dir='%s'/><target dir='/gate'/><readonly/></filesystem>", gate) +
		doc[k:]
	xmlPath = h.writeXML(name, doc)
	started := make(chan result, 1)
	go func() { started <- h.run("start", xmlPath) }()
	defer h.run("destroy", name)
	select {
	case <-g.reached:
	case r := <-started:
		t.Fatalf("the start ended before the guest's init was exec'd: %v", r)
	case <-time.After(60 * time.Second):
		t.Fatal("the guest's __init never exec'd its init")
	}
	// In the window: the server dies, a supervisor starts a new one.
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "a new /proc server serving", func() bool {
		s := procfsServers(h.root)
		var st unix.Stat_t
		return len(s) == 1 && s[0] != old &&
			unix.Stat(filepath.Join(h.root, "run", "procfs", "mnt", "proc", "meminfo"), &st) == nil && st.Dev != oldDev
	})
	g.release()
	var r result
	select {
	case r = <-started:
	case <-time.After(60 * time.Second):
		t.Fatal("the start did not end after the gate opened")
	}
	if r.code != 0 {
		t.Fatalf("start: %v", r)
	}
	// Served by the new server at once after the start (the supervisor
	// bound its files before the start's report), and the first guest too.
	out := h.run("exec", name, "--", "grep", "MemTotal", "/proc/meminfo")
	if f := strings.Fields(out.stdout); out.code != 0 || len(f) != 3 || f[1] != "75776" {
		t.Errorf("the guest started in the window read %v, want MemTotal 75776 kB", out)
	}
	h.logsSay("the /proc server was restarted since the guest's files were cloned")
	h.mustWaitMemTotal(first, "67584")
}
