package procfs

import (
	"context"
	"errors"
	"fmt"
	"log"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// FSType is the server's filesystem type in mountinfo.
const FSType = "fuse.vmlite"

// dirNode is a directory of the tree (proc, sys/devices/system/cpu).
type dirNode struct{ fs.Inode }

var _ fs.NodeGetattrer = (*dirNode)(nil)

// Getattr: 0555, so that a mapped guest's users may walk it.
func (d *dirNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFDIR | 0o555
	return 0
}

// fileNode is one served file. Its content is computed at open for the
// opening process, and served from that snapshot (FOPEN_DIRECT_IO: the
// kernel caches nothing, and a size of 0 is fine, as in /proc), so that
// reads in pieces see one consistent answer, as LXCFS does at offset 0.
type fileNode struct {
	fs.Inode
	file string
	view *View
	log  *log.Logger

	// last is the answer a stat (lookup, getattr without a file) computed
	// for a thread, which its open right after reuses: the size the kernel
	// was told is then exactly the size of the snapshot it reads, and an
	// open costs one computation, not two.
	mu   sync.Mutex
	last struct {
		pid uint32
		at  time.Time
		b   []byte
	}
}

// reuseWithin is how old an answer a thread's open may reuse.
const reuseWithin = 50 * time.Millisecond

var (
	_ fs.NodeOpener    = (*fileNode)(nil)
	_ fs.NodeReader    = (*fileNode)(nil)
	_ fs.NodeGetattrer = (*fileNode)(nil)
)

type snapshot []byte

// render computes the file for the calling process.
func (f *fileNode) render(ctx context.Context) ([]byte, syscall.Errno) {
	c, ok := fuse.FromContext(ctx)
	if !ok || c.Pid == 0 {
		// A process in a pid namespace the server cannot see: no guest of
		// vmlite's, and nothing safe to answer.
		return nil, syscall.EACCES
	}
	f.mu.Lock()
	if f.last.pid == c.Pid && time.Since(f.last.at) < reuseWithin {
		b := f.last.b
		f.last.pid, f.last.b = 0, nil
		f.mu.Unlock()
		return b, 0
	}
	f.mu.Unlock()
	b, err := f.view.Render(f.file, int(c.Pid))
	if err != nil {
		if !errors.Is(err, errGone) {
			f.log.Printf("%s for pid %d: %v", f.file, c.Pid, err)
		}
		return nil, syscall.EIO
	}
	return b, 0
}

// remember keeps b for the open that follows the caller's stat.
func (f *fileNode) remember(ctx context.Context, b []byte) {
	if c, ok := fuse.FromContext(ctx); ok {
		f.mu.Lock()
		f.last.pid, f.last.at, f.last.b = c.Pid, time.Now(), b
		f.mu.Unlock()
	}
}

func (f *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		return nil, 0, syscall.EROFS
	}
	b, errno := f.render(ctx)
	if errno != 0 {
		return nil, 0, errno
	}
	return snapshot(b), fuse.FOPEN_DIRECT_IO, 0
}

func (f *fileNode) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	b, _ := fh.(snapshot)
	if off >= int64(len(b)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), int64(len(b)))
	return fuse.ReadResultData(b[off:end]), 0
}

// Getattr gives the size of the open file's snapshot (or of what the
// caller would read now), never cached: read(2) is direct I/O, but
// sendfile and splice (busybox cat) read through the page cache, which
// stops at the size. Each guest has its own inodes (guestsDir), so what
// the page cache holds is never another guest's.
func (f *fileNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFREG | 0o444
	out.Nlink = 1
	now := time.Now()
	out.SetTimes(&now, &now, &now)
	out.SetTimeout(0)
	b, ok := fh.(snapshot)
	if !ok {
		var errno syscall.Errno
		if b, errno = f.render(ctx); errno != 0 {
			return errno
		}
		f.remember(ctx, b)
	}
	out.Size = uint64(len(b))
	return 0
}

// root is the mount's root: Files for the host's processes (what a guest
// that is no guest of the server's would read) and guests/NAME/ with
// Files for each registered guest.
type root struct {
	dirNode
	view *View
	log  *log.Logger
}

var _ fs.NodeOnAdder = (*root)(nil)

func (r *root) OnAdd(ctx context.Context) {
	addFiles(ctx, &r.Inode, r.view, r.log)
	g := r.NewPersistentInode(ctx, &guestsDir{view: r.view, log: r.log}, fs.StableAttr{Mode: syscall.S_IFDIR})
	r.AddChild(GuestsDir, g, false)
}

// GuestsDir holds a tree of Files per registered guest, by name.
const GuestsDir = "guests"

func addFiles(ctx context.Context, top *fs.Inode, v *View, logger *log.Logger) {
	for _, f := range Files {
		dir := top
		for _, e := range strings.Split(path.Dir(f), "/") {
			ch := dir.GetChild(e)
			if ch == nil {
				ch = dir.NewPersistentInode(ctx, &dirNode{}, fs.StableAttr{Mode: syscall.S_IFDIR})
				dir.AddChild(e, ch, false)
			}
			dir = ch
		}
		n := &fileNode{file: f, view: v, log: logger}
		dir.AddChild(path.Base(f), dir.NewPersistentInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFREG}), false)
	}
}

// guestsDir makes a guest's tree when it is first looked up.
type guestsDir struct {
	dirNode
	view *View
	log  *log.Logger
	mu   sync.Mutex
}

var _ fs.NodeLookuper = (*guestsDir)(nil)

func (d *guestsDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ch := d.GetChild(name); ch != nil {
		return ch, 0
	}
	if !d.view.registered(name) {
		return nil, syscall.ENOENT
	}
	t := &guestTree{view: d.view, log: d.log}
	ch := d.NewPersistentInode(ctx, t, fs.StableAttr{Mode: syscall.S_IFDIR})
	d.AddChild(name, ch, false)
	out.Mode = syscall.S_IFDIR | 0o555
	return ch, 0
}

// guestTree is one guest's Files.
type guestTree struct {
	dirNode
	view *View
	log  *log.Logger
}

var _ fs.NodeOnAdder = (*guestTree)(nil)

func (t *guestTree) OnAdd(ctx context.Context) { addFiles(ctx, &t.Inode, t.view, t.log) }

// mount mounts the server's filesystem at dir: read-only, for every user
// (allow_other: the guests' mapped ids), the kernel checking the 0444 modes
// (default_permissions). The tree never changes, so lookups and attributes
// are cached for long; contents and sizes are computed per open.
func mount(dir string, v *View, logger *log.Logger) (*fuse.Server, error) {
	long, none := time.Hour, time.Duration(0)
	r := &root{view: v, log: logger}
	srv, err := fs.Mount(dir, r, &fs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther:        true,
			FsName:            "vmlite-procfs",
			Name:              "vmlite",
			DirectMount:       true,
			DirectMountStrict: true,
			DirectMountFlags:  unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY,
			Options:           []string{"default_permissions"},
			DisableXAttrs:     true,
			MaxReadAhead:      0,
		},
		EntryTimeout:   &long,
		AttrTimeout:    &none,
		RootStableAttr: &fs.StableAttr{Ino: 1},
	})
	if err != nil {
		return nil, fmt.Errorf("mount %s on %s: %w", FSType, dir, err)
	}
	return srv, nil
}
