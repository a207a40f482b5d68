package fuseraw

import (
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// oneFile is a filesystem of one directory (node 1) holding "hello"
// (node 2).
type oneFile struct {
	released atomic.Int32
}

const helloText = "hello, world\n"

func (h *oneFile) Lookup(r *Request, out *EntryOut) syscall.Errno {
	if r.NodeID != 1 || r.Name != "hello" {
		return syscall.ENOENT
	}
	out.NodeID, out.EntryValid = 2, 60
	out.Attr = Attr{Ino: 2, Mode: syscall.S_IFREG | 0o444, Nlink: 1, Size: uint64(len(helloText))}
	return 0
}

func (h *oneFile) Getattr(r *Request, out *AttrOut) syscall.Errno {
	switch r.NodeID {
	case 1:
		out.Attr = Attr{Ino: 1, Mode: syscall.S_IFDIR | 0o555, Nlink: 2}
	case 2:
		out.Attr = Attr{Ino: 2, Mode: syscall.S_IFREG | 0o444, Nlink: 1, Size: uint64(len(helloText))}
	default:
		return syscall.ENOENT
	}
	return 0
}

func (h *oneFile) Open(r *Request, out *OpenOut) syscall.Errno {
	if r.NodeID != 2 {
		return syscall.EISDIR
	}
	out.Fh, out.OpenFlags = 5, FopenDirectIO
	return 0
}

func (h *oneFile) Opendir(r *Request, out *OpenOut) syscall.Errno { return 0 }

func (h *oneFile) Read(r *Request) ([]byte, syscall.Errno) {
	if r.Fh != 5 {
		return nil, syscall.EBADF
	}
	if r.Offset >= uint64(len(helloText)) {
		return nil, 0
	}
	return []byte(helloText[r.Offset:]), 0
}

func (h *oneFile) Release(r *Request) { h.released.Add(1) }

func (h *oneFile) Readdir(r *Request, out *DirList) syscall.Errno {
	if r.Offset == 0 {
		out.Add("hello", syscall.S_IFREG, 2, 1)
	}
	return 0
}

// TestServe: a real mount served by Conn, read by this very process (as
// the /proc server's tests read theirs): open (which Go's poller
// registers: the POLL it sends is refused), read, stat, list, statfs;
// the unmount ends Serve.
func TestServe(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	h := &oneFile{}
	c, err := Mount(dir, h, Options{Source: "fuseraw-test", Subtype: "fuserawtest", Flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV, MaxRead: 4096})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- c.Serve() }()
	unmounted := false
	defer func() {
		if !unmounted {
			_ = unix.Unmount(dir, unix.MNT_DETACH)
		}
		c.Close()
	}()

	b, err := os.ReadFile(filepath.Join(dir, "hello"))
	if err != nil || string(b) != helloText {
		t.Errorf("read: %q, %v", b, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "hello"))
	if err != nil || fi.Size() != int64(len(helloText)) || fi.Mode() != 0o444 {
		t.Errorf("stat: %v, %v", fi, err)
	}
	ents, err := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if err != nil || !reflect.DeepEqual(names, []string{"hello"}) {
		t.Errorf("readdir: %v, %v", names, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); !os.IsNotExist(err) {
		t.Errorf("stat of a missing name: %v", err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil || st.Bsize != 4096 || st.Namelen != 255 {
		t.Errorf("statfs: %+v, %v", st, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello"), nil, 0); err == nil {
		t.Error("a write on the read-only mount succeeded")
	}

	// RELEASE is sent after close(2) returns, in the background.
	testutil.WaitFor(t, 10*time.Second, "a RELEASE reaches the handler", func() bool { return h.released.Load() > 0 })
	if err := unix.Unmount(dir, 0); err != nil {
		t.Fatal(err)
	}
	unmounted = true
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not end with the unmount")
	}
}
