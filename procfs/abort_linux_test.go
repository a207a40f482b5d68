package procfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// hungFS is a server whose every open waits until released: a hung
// server, as far as the reader can tell.
type hungFS struct {
	fuse.RawFileSystem
	reached chan struct{} // one value per open that waits
	release chan struct{}
	once    sync.Once
}

func (h *hungFS) unblock() { h.once.Do(func() { close(h.release) }) }

func (h *hungFS) Lookup(cancel <-chan struct{}, in *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	if in.NodeId != 1 || name != "f" {
		return fuse.ENOENT
	}
	out.NodeId = 2
	out.Attr = fuse.Attr{Ino: 2, Mode: syscall.S_IFREG | 0o444, Nlink: 1}
	return fuse.OK
}

func (h *hungFS) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	out.Attr = fuse.Attr{Ino: in.NodeId, Mode: syscall.S_IFDIR | 0o555, Nlink: 2}
	if in.NodeId == 2 {
		out.Attr = fuse.Attr{Ino: 2, Mode: syscall.S_IFREG | 0o444, Nlink: 1}
	}
	return fuse.OK
}

func (h *hungFS) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	h.reached <- struct{}{}
	<-h.release
	return fuse.EIO
}

// TestAbortConnection: the guard's abort through fusectl alone ends a read
// that waits on a server that does not answer (the kill that follows it
// in abortHung is not needed for that): the reader gets an error at once
// and the server's connection ends. In a mount namespace of this test's
// own thread, with fusectl mounted there (this host has it unmounted),
// which goes with the thread.
func TestAbortConnection(t *testing.T) {
	testutil.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := &hungFS{RawFileSystem: fuse.NewDefaultRawFileSystem(), reached: make(chan struct{}, 8), release: make(chan struct{})}
	defer h.unblock()
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread, and its mount namespace, end with
		// this goroutine.
		runtime.LockOSThread()
		errc <- abortInOwnNamespace(dir, h)
	}()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the abort did not end the waiting read")
	}
}

func abortInOwnNamespace(dir string, h *hungFS) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	var st unix.Statfs_t
	if unix.Statfs(fuseConnections, &st) != nil || st.Type != fusectlMagic {
		if err := unix.Mount("fusectl", fuseConnections, "fusectl", 0, ""); err != nil {
			return fmt.Errorf("mount fusectl on %s: %w", fuseConnections, err)
		}
	}
	fsrv, err := fuse.NewServer(h, dir, &fuse.MountOptions{Name: "vmlite", FsName: "vmlite-test", DirectMount: true, DirectMountStrict: true})
	if err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	ended := make(chan struct{})
	go func() { fsrv.Serve(); close(ended) }()
	if err := fsrv.WaitMount(); err != nil {
		return err
	}
	defer func() { _ = unix.Unmount(dir, unix.MNT_DETACH) }()
	// Started from this thread: the reader is in its mount namespace.
	cat := exec.Command("cat", filepath.Join(dir, "f"))
	out := make(chan error, 1)
	if err := cat.Start(); err != nil {
		return err
	}
	go func() { out <- cat.Wait() }()
	select {
	case <-h.reached:
	case err := <-out:
		return fmt.Errorf("cat ended before its open reached the server: %v", err)
	case <-time.After(30 * time.Second):
		_ = cat.Process.Kill()
		return errors.New("cat's open never reached the server")
	}
	conns, err := abortConnections(dir)
	if err != nil || len(conns) != 1 {
		_ = cat.Process.Kill()
		return fmt.Errorf("abortConnections = %v, %v; want one connection aborted", conns, err)
	}
	select {
	case err := <-out:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("cat of a file of an aborted connection: %v, want a failure", err)
		}
	case <-time.After(30 * time.Second):
		_ = cat.Process.Kill()
		return errors.New("the read still waits after the abort")
	}
	// The server's readers saw the connection end (the handler that
	// waits is let go: Serve waits for it).
	h.unblock()
	select {
	case <-ended:
	case <-time.After(30 * time.Second):
		return errors.New("the server's connection did not end after the abort")
	}
	return nil
}
