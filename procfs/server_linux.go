package procfs

import (
	"errors"
	"log"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/fuseraw"
)

// FSType is the server's filesystem type in mountinfo.
const FSType = "fuse.vmlite"

// maxRead is the most a READ asks for (the kernel's max_read).
const maxRead = 8 << 10

// treeTimeout is how long the kernel keeps the tree's entries and the
// directories' attributes.
const treeTimeout = time.Hour

// server is the filesystem, served by package fuseraw (one goroutine,
// one request buffer; doc.go says why not go-fuse): a node id says which
// tree (the host's, or a guest's) and which entry of it (ids.go), so the
// server keeps no object per node: per guest, one slot number while it is
// registered. go-fuse's fs package kept an Inode with its maps for each
// of a guest's 13 nodes, about 4.5 KiB a guest (bench/README.md).
//
// A file's content is computed at open for the opening process, and
// served from that snapshot (FOPEN_DIRECT_IO: the kernel caches nothing,
// and a size of 0 is fine, as in /proc), so that reads in pieces see one
// consistent answer, as LXCFS does at offset 0.
type server struct {
	view *View
	log  *log.Logger
	conn *fuseraw.Conn // for the kernel notifications, once mounted

	// answers counts the answers computed since the idle check last
	// looked (it returns a burst's memory to the kernel).
	answers atomic.Int64
	// garbage is about what the answers since the last collection left
	// (their size; Serve's goroutine alone touches it): see collect.
	garbage int

	mu sync.Mutex // guards the fields below
	// slots are the trees of the registered guests, by name; live the
	// same, by slot. A slot is never used again by this server: a guest
	// registered again (a reboot) gets new node ids, so the kernel's
	// inodes (and page cache) of the old ones are never another guest's.
	slots    map[string]uint64
	live     map[uint64]bool
	nextSlot uint64
	// recent holds the answer a stat (GETATTR without a file handle)
	// computed for a thread, which its open right after reuses: the size
	// the kernel was told is then exactly the size of the snapshot it
	// reads, and an open costs one computation, not two.
	recent map[recentKey]recentAnswer
	// open are the snapshots of the open files, by file handle.
	open   map[uint64][]byte
	nextFh uint64
}

type recentKey struct {
	node uint64
	pid  uint32
}

type recentAnswer struct {
	at time.Time
	b  []byte
}

// reuseWithin is how old an answer a thread's open may reuse.
const reuseWithin = 50 * time.Millisecond

func newServer(v *View, logger *log.Logger) *server {
	s := &server{
		view: v, log: logger,
		slots: map[string]uint64{}, live: map[uint64]bool{}, nextSlot: 1,
		recent: map[recentKey]recentAnswer{}, open: map[uint64][]byte{}, nextFh: 1,
	}
	v.gone = s.forget
	// A reload's garbage is every entry's file and JSON: collected at
	// once, so that a run of registrations (200 guests starting) does not
	// grow the heap to the pacer's goal (collect).
	v.reloaded = runtime.GC
	return s
}

// take returns (and forgets) the answer a stat of node by pid just computed.
func (s *server) take(node uint64, pid uint32) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := recentKey{node, pid}
	a, ok := s.recent[k]
	if !ok {
		return nil, false
	}
	delete(s.recent, k)
	return a.b, time.Since(a.at) < reuseWithin
}

// keep records b for the open that follows pid's stat of node.
func (s *server) keep(node uint64, pid uint32, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.recent) >= 64 {
		s.sweepLocked()
	}
	s.recent[recentKey{node, pid}] = recentAnswer{time.Now(), b}
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

// render computes Files[file] for the calling process.
func (s *server) render(node uint64, file int, pid uint32) ([]byte, syscall.Errno) {
	s.answers.Add(1)
	if pid == 0 {
		// A process in a pid namespace the server cannot see: no guest of
		// vmlite's, and nothing safe to answer.
		return nil, syscall.EACCES
	}
	if b, ok := s.take(node, pid); ok {
		return b, 0
	}
	b, err := s.view.Render(Files[file], int(pid))
	s.collect(len(b))
	if err != nil {
		if !errors.Is(err, errGone) {
			s.log.Printf("%s for pid %d: %v", Files[file], pid, err)
		}
		return nil, syscall.EIO
	}
	return b, 0
}

// collectEvery is how much answer text the server renders between two
// collections of its own: an answer's garbage is about twice its size.
const collectEvery = 32 << 10

// collect runs the garbage collector once the answers since the last
// collection add up to collectEvery: the pacer's smallest heap goal (1 MiB
// at GOGC 25, and no lower with a smaller GOGC) would let a burst of reads
// grow the heap's resident pages to 1.5 MiB, where collecting every 20 or
// so answers keeps them at a few hundred KiB, for a fraction of a
// millisecond per collection of a heap this small (bench/README.md).
func (s *server) collect(n int) {
	s.garbage += n
	if s.garbage >= collectEvery {
		s.garbage = 0
		runtime.GC()
	}
}

// slotOf returns the slot of a registered guest's tree, giving it one at
// its first lookup; false when name is not registered.
func (s *server) slotOf(name string) (uint64, bool) {
	if !s.view.registered(name) {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl, ok := s.slots[name]; ok {
		return sl, true
	}
	// Again under mu: a forget that ran since the check above must not
	// leave a slot for a guest that is gone.
	if !s.view.has(name) || s.nextSlot > maxSlot {
		return 0, false
	}
	sl := s.nextSlot
	s.nextSlot++
	s.slots[name], s.live[sl] = sl, true
	return sl, true
}

func (s *server) alive(slot uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[slot]
}

// forget drops the trees of guests that are no longer registered, so that
// a long-lived server holds only the guests it serves, and then tells the
// kernel (its dentries of guests/NAME). It runs on its own goroutine: the
// view calls it from inside requests, and a notification from inside a
// request can deadlock on the kernel's locks. A name registered again
// meanwhile (a reboot) is kept. Binds still held in a stopping guest keep
// their inodes until they go, and are still answered (as any reader is:
// by its own cgroup).
func (s *server) forget(names []string) { go s.forgetNow(names) }

func (s *server) forgetNow(names []string) {
	var dropped []string
	s.mu.Lock()
	for _, name := range names {
		if sl, ok := s.slots[name]; ok && !s.view.has(name) {
			delete(s.slots, name)
			delete(s.live, sl)
			dropped = append(dropped, name)
		}
	}
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return
	}
	for _, name := range dropped {
		_ = conn.InvalEntry(nodeID(0, guestsLocal), name)
	}
}

// guestTrees reports how many guest trees the server holds (for tests).
func (s *server) guestTrees() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.slots)
}

// dirAttr: 0555, so that a mapped guest's users may walk it.
func dirAttr(node uint64, a *fuseraw.Attr) {
	a.Ino = node
	a.Mode = syscall.S_IFDIR | 0o555
	a.Nlink = 2
}

// fileAttr: 0444 and the size of what the caller reads (0 when unknown).
func fileAttr(node uint64, size int, a *fuseraw.Attr) {
	a.Ino = node
	a.Mode = syscall.S_IFREG | 0o444
	a.Nlink = 1
	a.Size = uint64(size)
	now := time.Now()
	sec, nsec := uint64(now.Unix()), uint32(now.Nanosecond())
	a.Atime, a.Mtime, a.Ctime = sec, sec, sec
	a.Atimensec, a.Mtimensec, a.Ctimensec = nsec, nsec, nsec
}

// treeValid is treeTimeout in whole seconds, as the kernel takes it.
var treeValid = uint64(treeTimeout / time.Second)

// Lookup: the tree never changes, so the kernel keeps its entries and the
// directories' attributes for long (each walk through a directory would
// cost a request otherwise: default_permissions checks its mode). A file's
// attributes are not kept: its size is what its reader would read now.
// A lookup renders nothing (the clones of a guest's files cost a lookup
// per path component).
func (s *server) Lookup(r *fuseraw.Request, out *fuseraw.EntryOut) syscall.Errno {
	slot, local, ok := splitID(r.NodeID)
	if !ok {
		return syscall.ENOENT
	}
	if slot == 0 && local == guestsLocal {
		sl, ok := s.slotOf(r.Name)
		if !ok {
			return syscall.ENOENT
		}
		out.NodeID = nodeID(sl, 0)
		dirAttr(out.NodeID, &out.Attr)
		out.EntryValid, out.AttrValid = treeValid, treeValid
		return 0
	}
	if slot != 0 && !s.alive(slot) {
		return syscall.ENOENT // its guest is gone
	}
	c := childOf(slot, local, r.Name)
	if c < 0 {
		return syscall.ENOENT
	}
	out.NodeID = nodeID(slot, c)
	out.EntryValid = treeValid
	if tree[c].file < 0 {
		dirAttr(out.NodeID, &out.Attr)
		out.AttrValid = treeValid
	} else {
		fileAttr(out.NodeID, 0, &out.Attr)
	}
	return 0
}

// Getattr gives a file the size of the open file's snapshot (or of what
// the caller would read now), never cached: read(2) is direct I/O, but
// sendfile and splice (busybox cat) read through the page cache, which
// stops at the size. Each guest has its own inodes, so what the page
// cache holds is never another guest's.
func (s *server) Getattr(r *fuseraw.Request, out *fuseraw.AttrOut) syscall.Errno {
	_, local, ok := splitID(r.NodeID)
	if !ok {
		return syscall.ENOENT
	}
	f := tree[local].file
	if f < 0 {
		dirAttr(r.NodeID, &out.Attr)
		out.AttrValid = treeValid
		return 0
	}
	var b []byte
	have := false
	if r.Flags&fuseraw.GetattrFh != 0 {
		b, have = s.snapshot(r.Fh)
	}
	if !have {
		var errno syscall.Errno
		if b, errno = s.render(r.NodeID, f, r.PID); errno != 0 {
			return errno
		}
		s.keep(r.NodeID, r.PID, b)
	}
	fileAttr(r.NodeID, len(b), &out.Attr)
	return 0
}

func (s *server) Open(r *fuseraw.Request, out *fuseraw.OpenOut) syscall.Errno {
	_, local, ok := splitID(r.NodeID)
	if !ok {
		return syscall.ENOENT
	}
	f := tree[local].file
	if f < 0 {
		return syscall.EISDIR
	}
	if r.Flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		return syscall.EROFS
	}
	b, errno := s.render(r.NodeID, f, r.PID)
	if errno != 0 {
		return errno
	}
	s.mu.Lock()
	fh := s.nextFh
	s.nextFh++
	s.open[fh] = b
	s.mu.Unlock()
	out.Fh = fh
	out.OpenFlags = fuseraw.FopenDirectIO
	return 0
}

func (s *server) snapshot(fh uint64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.open[fh]
	return b, ok
}

func (s *server) Read(r *fuseraw.Request) ([]byte, syscall.Errno) {
	b, ok := s.snapshot(r.Fh)
	if !ok {
		return nil, syscall.EBADF
	}
	if r.Offset >= uint64(len(b)) {
		return nil, 0
	}
	return b[r.Offset:], 0 // the loop sends at most the size asked
}

func (s *server) Release(r *fuseraw.Request) {
	s.mu.Lock()
	delete(s.open, r.Fh)
	s.mu.Unlock()
}

func (s *server) Opendir(r *fuseraw.Request, out *fuseraw.OpenOut) syscall.Errno {
	_, local, ok := splitID(r.NodeID)
	if !ok {
		return syscall.ENOENT
	}
	if tree[local].file >= 0 {
		return syscall.ENOTDIR
	}
	return 0
}

// Readdir lists a directory: its entries of the tree, or, for guests/,
// the registered guests. An entry's offset is its index plus one.
func (s *server) Readdir(r *fuseraw.Request, out *fuseraw.DirList) syscall.Errno {
	slot, local, ok := splitID(r.NodeID)
	if !ok {
		return syscall.ENOENT
	}
	if slot == 0 && local == guestsLocal {
		names := s.view.names()
		for i := r.Offset; i < uint64(len(names)); i++ {
			if !out.Add(names[i], syscall.S_IFDIR, 0, i+1) {
				break
			}
		}
		return 0
	}
	i := uint64(0)
	for c, e := range tree {
		if e.parent != local || !visible(slot, c) {
			continue
		}
		i++
		if i <= r.Offset {
			continue
		}
		mode := uint32(syscall.S_IFREG)
		if e.file < 0 {
			mode = syscall.S_IFDIR
		}
		if !out.Add(e.name, mode, nodeID(slot, c), i) {
			break
		}
	}
	return 0
}

// mount mounts the server's filesystem at dir: read-only, for every user
// (allow_other: the guests' mapped ids), the kernel checking the 0444 modes
// (default_permissions). READ answers are at most maxRead: the files are a
// few KiB, and a larger one (a big host's cpuinfo) is read in more READs.
func mount(dir string, v *View, logger *log.Logger) (*fuseraw.Conn, *server, error) {
	srv := newServer(v, logger)
	conn, err := fuseraw.Mount(dir, srv, fuseraw.Options{
		Source:  "vmlite-procfs",
		Subtype: "vmlite",
		Flags:   unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY,
		Options: "allow_other,default_permissions",
		MaxRead: maxRead,
	})
	if err != nil {
		return nil, nil, err
	}
	srv.mu.Lock()
	srv.conn = conn
	srv.mu.Unlock()
	return conn, srv, nil
}
