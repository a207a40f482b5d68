package procfs

import (
	"errors"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// FSType is the server's filesystem type in mountinfo.
const FSType = "fuse.vmlite"

// maxRead is the most a READ asks for (the kernel's max_read).
const maxRead = 8 << 10

// treeTimeout is how long the kernel keeps the tree's entries and the
// directories' attributes.
const treeTimeout = time.Hour

// server is the filesystem, on go-fuse's raw API (fuse.RawFileSystem):
// a node id says which tree (the host's, or a guest's) and which entry
// of it (ids.go), so the server keeps no object per node: per guest, one
// slot number while it is registered. go-fuse's fs package kept an Inode
// with its maps for each of a guest's 13 nodes, about 4.5 KiB a guest
// (bench/README.md).
//
// A file's content is computed at open for the opening process, and
// served from that snapshot (FOPEN_DIRECT_IO: the kernel caches nothing,
// and a size of 0 is fine, as in /proc), so that reads in pieces see one
// consistent answer, as LXCFS does at offset 0.
type server struct {
	fuse.RawFileSystem // ENOSYS for what is not served here
	view               *View
	log                *log.Logger
	fsrv               *fuse.Server // for the kernel notifications, once mounted

	// answers counts the answers computed since the idle check last
	// looked (it returns a burst's memory to the kernel).
	answers atomic.Int64

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
		RawFileSystem: fuse.NewDefaultRawFileSystem(),
		view:          v, log: logger,
		slots: map[string]uint64{}, live: map[uint64]bool{}, nextSlot: 1,
		recent: map[recentKey]recentAnswer{}, open: map[uint64][]byte{}, nextFh: 1,
	}
	v.gone = s.forget
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
func (s *server) render(node uint64, file int, pid uint32) ([]byte, fuse.Status) {
	s.answers.Add(1)
	if pid == 0 {
		// A process in a pid namespace the server cannot see: no guest of
		// vmlite's, and nothing safe to answer.
		return nil, fuse.EACCES
	}
	if b, ok := s.take(node, pid); ok {
		return b, fuse.OK
	}
	b, err := s.view.Render(Files[file], int(pid))
	if err != nil {
		if !errors.Is(err, errGone) {
			s.log.Printf("%s for pid %d: %v", Files[file], pid, err)
		}
		return nil, fuse.EIO
	}
	return b, fuse.OK
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
	fsrv := s.fsrv
	s.mu.Unlock()
	if fsrv == nil {
		return
	}
	for _, name := range dropped {
		_ = fsrv.EntryNotify(nodeID(0, guestsLocal), name)
	}
}

// guestTrees reports how many guest trees the server holds (for tests).
func (s *server) guestTrees() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.slots)
}

func (s *server) Init(fsrv *fuse.Server) {
	s.mu.Lock()
	s.fsrv = fsrv
	s.mu.Unlock()
}

func (s *server) String() string { return "vmlite-procfs" }

// dirAttr: 0555, so that a mapped guest's users may walk it.
func dirAttr(node uint64, a *fuse.Attr) {
	a.Ino = node
	a.Mode = syscall.S_IFDIR | 0o555
	a.Nlink = 2
}

// fileAttr: 0444 and the size of what the caller reads (0 when unknown).
func fileAttr(node uint64, size int, a *fuse.Attr) {
	a.Ino = node
	a.Mode = syscall.S_IFREG | 0o444
	a.Nlink = 1
	a.Size = uint64(size)
	now := time.Now()
	a.SetTimes(&now, &now, &now)
}

// Lookup: the tree never changes, so the kernel keeps its entries and the
// directories' attributes for long (each walk through a directory would
// cost a request otherwise: default_permissions checks its mode). A file's
// attributes are not kept: its size is what its reader would read now.
// A lookup renders nothing (the clones of a guest's files cost a lookup
// per path component).
func (s *server) Lookup(cancel <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	slot, local, ok := splitID(h.NodeId)
	if !ok {
		return fuse.ENOENT
	}
	if slot == 0 && local == guestsLocal {
		sl, ok := s.slotOf(name)
		if !ok {
			return fuse.ENOENT
		}
		out.NodeId = nodeID(sl, 0)
		dirAttr(out.NodeId, &out.Attr)
		out.SetEntryTimeout(treeTimeout)
		out.SetAttrTimeout(treeTimeout)
		return fuse.OK
	}
	if slot != 0 && !s.alive(slot) {
		return fuse.ENOENT // its guest is gone
	}
	c := childOf(slot, local, name)
	if c < 0 {
		return fuse.ENOENT
	}
	out.NodeId = nodeID(slot, c)
	out.SetEntryTimeout(treeTimeout)
	if tree[c].file < 0 {
		dirAttr(out.NodeId, &out.Attr)
		out.SetAttrTimeout(treeTimeout)
	} else {
		fileAttr(out.NodeId, 0, &out.Attr)
	}
	return fuse.OK
}

// GetAttr gives a file the size of the open file's snapshot (or of what
// the caller would read now), never cached: read(2) is direct I/O, but
// sendfile and splice (busybox cat) read through the page cache, which
// stops at the size. Each guest has its own inodes, so what the page
// cache holds is never another guest's.
func (s *server) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	_, local, ok := splitID(in.NodeId)
	if !ok {
		return fuse.ENOENT
	}
	f := tree[local].file
	if f < 0 {
		dirAttr(in.NodeId, &out.Attr)
		out.SetTimeout(treeTimeout)
		return fuse.OK
	}
	var b []byte
	have := false
	if in.Flags()&fuse.FUSE_GETATTR_FH != 0 {
		b, have = s.snapshot(in.Fh())
	}
	if !have {
		var st fuse.Status
		if b, st = s.render(in.NodeId, f, in.Pid); !st.Ok() {
			return st
		}
		s.keep(in.NodeId, in.Pid, b)
	}
	fileAttr(in.NodeId, len(b), &out.Attr)
	out.SetTimeout(0)
	return fuse.OK
}

func (s *server) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	_, local, ok := splitID(in.NodeId)
	if !ok {
		return fuse.ENOENT
	}
	f := tree[local].file
	if f < 0 {
		return fuse.EISDIR
	}
	if in.Flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		return fuse.EROFS
	}
	b, st := s.render(in.NodeId, f, in.Pid)
	if !st.Ok() {
		return st
	}
	s.mu.Lock()
	fh := s.nextFh
	s.nextFh++
	s.open[fh] = b
	s.mu.Unlock()
	out.Fh = fh
	out.OpenFlags = fuse.FOPEN_DIRECT_IO
	return fuse.OK
}

func (s *server) snapshot(fh uint64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.open[fh]
	return b, ok
}

func (s *server) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	b, ok := s.snapshot(in.Fh)
	if !ok {
		return nil, fuse.EBADF
	}
	off := int64(in.Offset)
	if off >= int64(len(b)) {
		return fuse.ReadResultData(nil), fuse.OK
	}
	end := min(off+int64(in.Size), int64(len(b)))
	return fuse.ReadResultData(b[off:end]), fuse.OK
}

func (s *server) Release(cancel <-chan struct{}, in *fuse.ReleaseIn) {
	s.mu.Lock()
	delete(s.open, in.Fh)
	s.mu.Unlock()
}

// Flush answers ENOSYS, which tells the kernel to send none again on this
// connection: close(2) of a served file then costs no request (flush is
// synchronous; nothing here is written, so there is nothing to flush).
func (s *server) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status { return fuse.ENOSYS }

func (s *server) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	_, local, ok := splitID(in.NodeId)
	if !ok {
		return fuse.ENOENT
	}
	if tree[local].file >= 0 {
		return fuse.ENOTDIR
	}
	return fuse.OK
}

// ReadDir lists a directory: its entries of the tree, or, for guests/,
// the registered guests.
func (s *server) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	slot, local, ok := splitID(in.NodeId)
	if !ok {
		return fuse.ENOENT
	}
	var ents []fuse.DirEntry
	if slot == 0 && local == guestsLocal {
		for _, name := range s.view.names() {
			ents = append(ents, fuse.DirEntry{Name: name, Mode: syscall.S_IFDIR})
		}
	} else {
		for c, e := range tree {
			if e.parent == local && visible(slot, c) {
				mode := uint32(syscall.S_IFREG)
				if e.file < 0 {
					mode = syscall.S_IFDIR
				}
				ents = append(ents, fuse.DirEntry{Name: e.name, Mode: mode, Ino: nodeID(slot, c)})
			}
		}
	}
	for i := in.Offset; i < uint64(len(ents)); i++ {
		e := ents[i]
		e.Off = i + 1
		if !out.AddDirEntry(e) {
			break
		}
	}
	return fuse.OK
}

// StatFs answers with zeroes (a statfs is what the supervisors' guard
// probes with, and what tells a live mount from a dead one).
func (s *server) StatFs(cancel <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	out.Bsize, out.NameLen = 4096, 255
	return fuse.OK
}

// mount mounts the server's filesystem at dir: read-only, for every user
// (allow_other: the guests' mapped ids), the kernel checking the 0444 modes
// (default_permissions).
func mount(dir string, v *View, logger *log.Logger) (*fuse.Server, *server, error) {
	srv := newServer(v, logger)
	opts := &fuse.MountOptions{
		AllowOther:        true,
		FsName:            "vmlite-procfs",
		Name:              "vmlite",
		DirectMount:       true,
		DirectMountStrict: true,
		DirectMountFlags:  unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY,
		Options:           []string{"default_permissions"},
		DisableXAttrs:     true,
		// READDIR alone: a listing needs no attributes.
		DisableReadDirPlus: true,
		// Each reader of /dev/fuse holds a request buffer of MaxWrite
		// plus a header, and each READ reply one of the size asked,
		// at most MaxWrite (128 KiB by default): the files are a few
		// KiB, so two pages; a larger file is read in more READs.
		MaxWrite:     maxRead,
		MaxReadAhead: maxRead,
	}
	fsrv, err := fuse.NewServer(srv, dir, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("mount %s on %s: %w", FSType, dir, err)
	}
	go fsrv.Serve()
	if err := fsrv.WaitMount(); err != nil {
		return nil, nil, fmt.Errorf("mount %s on %s: %w", FSType, dir, err)
	}
	return fsrv, srv, nil
}
