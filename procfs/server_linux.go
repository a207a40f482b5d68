package procfs

import (
	"context"
	"errors"
	"fmt"
	"log"
	"path"
	"strings"
	"sync"
	"sync/atomic"
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

// Getattr: 0555, so that a mapped guest's users may walk it. The tree
// never changes: the kernel may keep a directory's attributes (each walk
// through it would cost a request otherwise: default_permissions checks
// each directory's mode).
func (d *dirNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFDIR | 0o555
	out.SetTimeout(treeTimeout)
	return 0
}

// maxRead is the most a READ asks for (the kernel's max_read).
const maxRead = 8 << 10

// treeTimeout is how long the kernel keeps the tree's entries and the
// directories' attributes.
const treeTimeout = time.Hour

// fileNode is one served file. Its content is computed at open for the
// opening process, and served from that snapshot (FOPEN_DIRECT_IO: the
// kernel caches nothing, and a size of 0 is fine, as in /proc), so that
// reads in pieces see one consistent answer, as LXCFS does at offset 0.
// There is one per file per guest (a thousand guests, eight thousand), so
// it holds no more than the file and the server.
type fileNode struct {
	fs.Inode
	file string
	srv  *server
}

var (
	_ fs.NodeOpener    = (*fileNode)(nil)
	_ fs.NodeReader    = (*fileNode)(nil)
	_ fs.NodeGetattrer = (*fileNode)(nil)
)

// server is what every node shares.
type server struct {
	view *View
	log  *log.Logger
	// recent holds the answer a stat (lookup, getattr without a file)
	// computed for a thread, which its open right after reuses: the size
	// the kernel was told is then exactly the size of the snapshot it
	// reads, and an open costs one computation, not two. One table for
	// the server (not a slot per node): what a stat that no open followed
	// left goes at the next sweep instead of staying with each node.
	mu     sync.Mutex
	recent map[recentKey]recentAnswer
	// answers counts the answers computed since the idle check last
	// looked (it returns a burst's memory to the kernel).
	answers atomic.Int64
	// root is the mount's root.
	root *fs.Inode
}

type recentKey struct {
	node *fileNode
	pid  uint32
}

type recentAnswer struct {
	at time.Time
	b  []byte
}

// reuseWithin is how old an answer a thread's open may reuse.
const reuseWithin = 50 * time.Millisecond

// take returns (and forgets) the answer a stat of n by pid just computed.
func (s *server) take(n *fileNode, pid uint32) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := recentKey{n, pid}
	a, ok := s.recent[k]
	if !ok {
		return nil, false
	}
	delete(s.recent, k)
	return a.b, time.Since(a.at) < reuseWithin
}

// keep records b for the open that follows pid's stat of n.
func (s *server) keep(n *fileNode, pid uint32, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.recent) >= 64 {
		s.sweepLocked()
	}
	s.recent[recentKey{n, pid}] = recentAnswer{time.Now(), b}
}

// sweep drops the answers too old to be reused.
func (s *server) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
}

func (s *server) sweepLocked() {
	for k, a := range s.recent {
		if time.Since(a.at) >= reuseWithin {
			delete(s.recent, k)
		}
	}
}

type snapshot []byte

// render computes the file for the calling process.
func (f *fileNode) render(ctx context.Context) ([]byte, syscall.Errno) {
	f.srv.answers.Add(1)
	c, ok := fuse.FromContext(ctx)
	if !ok || c.Pid == 0 {
		// A process in a pid namespace the server cannot see: no guest of
		// vmlite's, and nothing safe to answer.
		return nil, syscall.EACCES
	}
	if b, ok := f.srv.take(f, c.Pid); ok {
		return b, 0
	}
	b, err := f.srv.view.Render(f.file, int(c.Pid))
	if err != nil {
		if !errors.Is(err, errGone) {
			f.srv.log.Printf("%s for pid %d: %v", f.file, c.Pid, err)
		}
		return nil, syscall.EIO
	}
	return b, 0
}

// remember keeps b for the open that follows the caller's stat.
func (f *fileNode) remember(ctx context.Context, b []byte) {
	if c, ok := fuse.FromContext(ctx); ok {
		f.srv.keep(f, c.Pid, b)
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
	srv *server
}

var _ fs.NodeOnAdder = (*root)(nil)

func (r *root) OnAdd(ctx context.Context) {
	r.srv.root = &r.Inode
	addFiles(ctx, &r.Inode, r.srv)
	gd := &guestsDir{srv: r.srv}
	g := r.NewPersistentInode(ctx, gd, fs.StableAttr{Mode: syscall.S_IFDIR})
	r.AddChild(GuestsDir, g, false)
	r.srv.view.gone = gd.forget
}

// GuestsDir holds a tree of Files per registered guest, by name.
const GuestsDir = "guests"

func addFiles(ctx context.Context, top *fs.Inode, srv *server) {
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
		n := &fileNode{file: f, srv: srv}
		dir.AddChild(path.Base(f), dir.NewPersistentInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFREG}), false)
	}
}

// guestsDir makes a guest's tree when it is first looked up, and drops it
// when the guest is no longer registered.
type guestsDir struct {
	dirNode
	srv *server
	mu  sync.Mutex
}

var _ fs.NodeLookuper = (*guestsDir)(nil)

func (d *guestsDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ch := d.GetChild(name); ch != nil {
		return ch, 0
	}
	if !d.srv.view.registered(name) {
		return nil, syscall.ENOENT
	}
	t := &guestTree{srv: d.srv}
	ch := d.NewPersistentInode(ctx, t, fs.StableAttr{Mode: syscall.S_IFDIR})
	d.AddChild(name, ch, false)
	out.Mode = syscall.S_IFDIR | 0o555
	out.SetAttrTimeout(treeTimeout)
	return ch, 0
}

// forget drops the trees of guests that are no longer registered, so that
// a long-lived server holds only the guests it serves: its own
// references, then the kernel's (its dentries of guests/NAME) when told.
// It runs on its own goroutine: the view calls it from inside requests
// (a Lookup holding d.mu; and a notification from inside a request can
// deadlock on the kernel's locks). A name registered again meanwhile (a
// reboot) is kept. Binds still held in a stopping guest keep their inodes
// until they go: the kernel forgets them then.
func (d *guestsDir) forget(names []string) { go d.forgetNow(names) }

func (d *guestsDir) forgetNow(names []string) {
	var dropped []string
	d.mu.Lock()
	for _, name := range names {
		if ch := d.GetChild(name); ch != nil && !d.srv.view.has(name) {
			d.RmChild(name)
			ch.RmAllChildren()
			dropped = append(dropped, name)
		}
	}
	d.mu.Unlock()
	for _, name := range dropped {
		_ = d.NotifyEntry(name)
	}
}

// guestTree is one guest's Files.
type guestTree struct {
	dirNode
	srv *server
}

var _ fs.NodeOnAdder = (*guestTree)(nil)

func (t *guestTree) OnAdd(ctx context.Context) { addFiles(ctx, &t.Inode, t.srv) }

// mount mounts the server's filesystem at dir: read-only, for every user
// (allow_other: the guests' mapped ids), the kernel checking the 0444 modes
// (default_permissions). The tree never changes, so lookups and the
// directories' attributes are cached for long; the files' contents and
// sizes are computed per open (their Getattr says: no caching).
func mount(dir string, v *View, logger *log.Logger) (*fuse.Server, *server, error) {
	long := treeTimeout
	srv := &server{view: v, log: logger, recent: map[recentKey]recentAnswer{}}
	r := &root{srv: srv}
	opts := &fs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther:        true,
			FsName:            "vmlite-procfs",
			Name:              "vmlite",
			DirectMount:       true,
			DirectMountStrict: true,
			DirectMountFlags:  unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY,
			Options:           []string{"default_permissions"},
			DisableXAttrs:     true,
			// Each reader of /dev/fuse holds a request buffer of MaxWrite
			// plus a header, and each READ reply one of the size asked,
			// at most MaxWrite (128 KiB by default): the files are a few
			// KiB, so two pages; a larger file is read in more READs.
			MaxWrite:     maxRead,
			MaxReadAhead: maxRead,
		},
		EntryTimeout: &long,
		// No AttrTimeout: each node's Getattr sets its own (a default
		// here would override the files' 0).
		RootStableAttr: &fs.StableAttr{Ino: 1},
	}
	fsrv, err := fuse.NewServer(noFlush{fs.NewNodeFS(r, opts)}, dir, &opts.MountOptions)
	if err != nil {
		return nil, nil, fmt.Errorf("mount %s on %s: %w", FSType, dir, err)
	}
	go fsrv.Serve()
	if err := fsrv.WaitMount(); err != nil {
		return nil, nil, fmt.Errorf("mount %s on %s: %w", FSType, dir, err)
	}
	return fsrv, srv, nil
}

// noFlush answers FLUSH with ENOSYS, which tells the kernel to send none
// again on this connection: close(2) of a served file then costs no
// request (flush is synchronous; nothing here is written, so there is
// nothing to flush).
type noFlush struct{ fuse.RawFileSystem }

func (noFlush) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status { return fuse.ENOSYS }
