package uidmap

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// Xattrs that carry ids.
const (
	xattrACL        = "system.posix_acl_access"
	xattrDefaultACL = "system.posix_acl_default"
	xattrCap        = "security.capability"
)

// failAfter, when > 0, makes a shift fail after that many inodes were
// changed: tests use it to interrupt a shift at a chosen point.
var failAfter int

// errInjected is the failure failAfter causes.
var errInjected = errors.New("shift interrupted (test)")

// ReadRecord returns tree's record in dir; ok is false when there is none
// (the tree is stored as made: the identity).
func ReadRecord(dir, tree string) (rec Record, ok bool, err error) {
	path, st, err := treeIdentity(tree)
	if err != nil {
		return Record{}, false, err
	}
	return readRecord(filepath.Join(dir, st.key()+".json"), path, st)
}

func readRecord(file, path string, st treeID) (rec Record, ok bool, err error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("read shift record of %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return Record{}, false, fmt.Errorf("shift record of %s: %w", path, err)
	}
	if !st.same(rec.Dev, rec.Ino, rec.Birth) {
		return Record{}, false, nil
	}
	return rec, true, nil
}

// checkNesting refuses to shift path while a tree inside it, or around it,
// has a shift of its own recorded: one walk would shift the other's files
// a second time.
func checkNesting(dir, path, self string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return fmt.Errorf("list shift records: %w", err)
	}
	for _, f := range files {
		if filepath.Base(f) == self+".json" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var r Record
		if json.Unmarshal(b, &r) != nil || (!r.Map.Enabled() && len(r.Map.GIDs) == 0) {
			continue
		}
		if nested(r.Path, path) || nested(path, r.Path) {
			return fmt.Errorf("%s and %s are shifted separately (%s); a tree shifted by chown must not contain another: %w",
				path, r.Path, String(r.Map), errdefs.ErrInvalid)
		}
	}
	return nil
}

// ErrInUse is returned by Shift when the tree must change owners but a
// running guest holds it (or another shift is under way).
var ErrInUse = errors.New("tree in use")

// Shift makes tree's owners on disk those of map to (the identity when to
// is empty), starting from the map its record in dir says it has, finishing
// first any shift of it that was interrupted. It does not enter anything
// mounted below tree. Nothing may use the tree meanwhile: the supervisor
// runs it before the guest's init exists.
//
// On success it returns the tree's lock, held shared: the caller keeps it
// open as long as a guest uses the tree, so that a guest wanting the tree
// with other owners meanwhile gets ErrInUse instead of shifting it under
// the running one. Guests wanting the same owners share it.
func Shift(dir, tree string, to plan.IDMap) (Stats, *os.File, error) {
	path, st, err := treeIdentity(tree)
	if err != nil {
		return Stats{}, nil, err
	}
	key := filepath.Join(dir, st.key())
	if canonical(to).Enabled() || len(to.GIDs) > 0 {
		if err := ShiftAllowed(path); err != nil {
			return Stats{}, nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Stats{}, nil, fmt.Errorf("create shift record directory: %w", err)
	}
	lock, err := os.OpenFile(key+".lock", os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return Stats{}, nil, fmt.Errorf("open shift lock: %w", err)
	}
	if err := flock(lock, unix.LOCK_SH); err != nil {
		lock.Close()
		return Stats{}, nil, err
	}
	stats, need, err := pending(key, path, st, to)
	if err != nil || !need {
		if err != nil {
			lock.Close()
			lock = nil
		}
		return stats, lock, err
	}
	// Changing owners needs the tree to itself. Not waiting: a holder is a
	// running guest, which may run for months.
	if err := flock(lock, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return stats, nil, fmt.Errorf("%s is stored for %s but wanted for %s, and a running guest uses it; stop that guest first: %w",
				path, String(stats.From), String(to), ErrInUse)
		}
		return stats, nil, err
	}
	stats, err = shiftLocked(dir, key, path, st, to)
	if err == nil {
		err = flock(lock, unix.LOCK_SH)
	}
	if err != nil {
		lock.Close()
		return stats, nil, err
	}
	return stats, lock, nil
}

// pending reports whether tree needs a shift to reach to: an interrupted
// one to finish, or a recorded map other than to.
func pending(key, path string, st treeID, to plan.IDMap) (Stats, bool, error) {
	if _, err := os.Stat(key + ".journal"); err == nil {
		return Stats{}, true, nil
	}
	rec, ok, err := readRecord(key+".json", path, st)
	if err != nil {
		return Stats{}, false, err
	}
	from := plan.IDMap{}
	if ok {
		from = rec.Map
	}
	return Stats{From: from, To: to}, !Equal(canonical(from), canonical(to)), nil
}

// shiftLocked does the shift under the exclusive lock.
func shiftLocked(dir, key, path string, st treeID, to plan.IDMap) (Stats, error) {
	var stats Stats
	if _, err := os.Stat(key + ".journal"); err == nil {
		s, err := resume(key, path, st)
		if err != nil {
			return s, err
		}
		stats.Resumed = true
	}
	stats2, need, err := pending(key, path, st, to)
	stats.From, stats.To = stats2.From, stats2.To
	if err != nil || !need {
		return stats, err
	}
	if err := checkNesting(dir, path, st.key()); err != nil {
		return stats, err
	}
	h := JournalHeader{Path: path, Dev: st.dev, Ino: st.ino, Birth: st.birth, From: stats.From, To: to}
	s, err := run(key, h, nil, false)
	s.Resumed = stats.Resumed
	return s, err
}

// flock applies op to f, retrying on EINTR.
func flock(f *os.File, op int) error {
	for {
		err := unix.Flock(int(f.Fd()), op)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil && !errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("lock %s: %w", f.Name(), &os.SyscallError{Syscall: "flock", Err: err})
		}
		return err
	}
}

// canonical drops what does not change the stored ids (AllowOverlap and
// ForceChown ride in plan.IDMap too).
func canonical(m plan.IDMap) plan.IDMap { return plan.IDMap{UIDs: m.UIDs, GIDs: m.GIDs} }

// resume completes the shift a journal records.
func resume(key, path string, st treeID) (Stats, error) {
	f, err := os.Open(key + ".journal")
	if err != nil {
		return Stats{}, fmt.Errorf("open shift journal: %w", err)
	}
	h, entries, err := ParseJournal(f)
	f.Close()
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", key+".journal", err)
	}
	if h.Path != path || !st.same(h.Dev, h.Ino, h.Birth) {
		// Another tree now sits at this path; the journal is of no use to it.
		return Stats{}, fmt.Errorf("shift journal %s.journal belongs to another tree at %s (inode %d, now %d); move it away", key, path, h.Ino, st.ino)
	}
	return run(key, h, entries, true)
}

// run shifts the tree of h from h.From to h.To; prior are the journal's
// entries of an interrupted run (their ids are the originals).
func run(key string, h JournalHeader, prior map[uint64]Entry, resuming bool) (Stats, error) {
	stats := Stats{From: h.From, To: h.To}
	flags := os.O_WRONLY | os.O_APPEND
	if !resuming {
		flags |= os.O_CREATE | os.O_TRUNC
	}
	j, err := os.OpenFile(key+".journal", flags|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return stats, fmt.Errorf("open shift journal: %w", err)
	}
	defer j.Close()
	if !resuming {
		if err := WriteJournalHeader(j, h); err != nil {
			return stats, fmt.Errorf("write shift journal: %w", err)
		}
		if err := j.Sync(); err != nil {
			return stats, fmt.Errorf("write shift journal: %w", err)
		}
	}
	w := &walker{
		journal: j, prior: prior, seen: map[uint64]bool{}, dev: h.Dev, stats: &stats,
		uids: NewTranslator(h.From, h.To, UID), gids: NewTranslator(h.From, h.To, GID),
	}
	root, err := unix.Open(h.Path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return stats, fmt.Errorf("open %s: %w", h.Path, err)
	}
	if rs, err := statFd(root, ""); err == nil && rs.Mask&unix.STATX_MNT_ID != 0 {
		w.mnt = rs.Mnt_id
	}
	// The root itself: through its parent would follow a symlink in the
	// path, so it is handled by fd ("" with AT_EMPTY_PATH).
	if err := w.batch(root, []string{""}); err != nil {
		unix.Close(root)
		return stats, err
	}
	err = w.walk(root, h.Path)
	unix.Close(root)
	if err != nil {
		return stats, err
	}
	rec := Record{Path: h.Path, Dev: h.Dev, Ino: h.Ino, Birth: h.Birth, Map: canonical(h.To)}
	b, err := json.Marshal(rec)
	if err != nil {
		return stats, fmt.Errorf("encode shift record: %w", err)
	}
	if err := state.WriteFileAtomic(key+".json", b, 0o600); err != nil {
		return stats, fmt.Errorf("write shift record: %w", err)
	}
	// The record is durable: the journal has done its work.
	if err := os.Remove(key + ".journal"); err != nil {
		return stats, fmt.Errorf("remove shift journal: %w", err)
	}
	return stats, nil
}

type walker struct {
	journal    *os.File
	prior      map[uint64]Entry
	seen       map[uint64]bool // hard links: an inode is shifted once
	dev        uint64          // the tree's filesystem and
	mnt        uint64          // mount (0: unknown): mounts below are skipped, bind mounts of the same filesystem too
	uids, gids Translator
	stats      *Stats
}

// walk shifts everything below the directory dirfd (path is for messages).
func (w *walker) walk(dirfd int, path string) error {
	names, err := readDirNames(dirfd)
	if err != nil {
		return fmt.Errorf("list %s: %w", path, err)
	}
	if err := w.batch(dirfd, names); err != nil {
		return err
	}
	for _, n := range names {
		st, err := statFd(dirfd, n)
		if err != nil {
			return fmt.Errorf("stat %s: %w", filepath.Join(path, n), err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR || !w.inTree(st) {
			continue
		}
		sub, err := unix.Openat(dirfd, n, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", filepath.Join(path, n), err)
		}
		err = w.walk(sub, filepath.Join(path, n))
		unix.Close(sub)
		if err != nil {
			return err
		}
	}
	return nil
}

// statFd stats name in dirfd ("" for dirfd itself) without following a
// symlink, with the mount id where the kernel has it (Linux >= 5.8).
func statFd(dirfd int, name string) (unix.Statx_t, error) {
	var st unix.Statx_t
	flags := unix.AT_SYMLINK_NOFOLLOW
	if name == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	err := unix.Statx(dirfd, name, flags, unix.STATX_BASIC_STATS|unix.STATX_MNT_ID, &st)
	return st, err
}

// inTree reports whether an entry belongs to the tree's own mount: the
// same filesystem and, where known, the same mount (a bind mount of the
// same filesystem below the tree is another tree, maybe the host's).
func (w *walker) inTree(st unix.Statx_t) bool {
	if unix.Mkdev(st.Dev_major, st.Dev_minor) != w.dev {
		return false
	}
	return w.mnt == 0 || st.Mask&unix.STATX_MNT_ID == 0 || st.Mnt_id == w.mnt
}

// batchSize bounds the entries (and so the O_PATH fds) of one batch.
const batchSize = 1024

// batch shifts the entries names of directory dirfd ("" is dirfd itself),
// batchSize at a time: first their original ids go to the journal (one
// fsync per batch), then they change. Each entry is opened O_PATH without
// following symlinks, and every later step goes through that fd, so a tree
// changing meanwhile cannot redirect a chown outside it.
func (w *walker) batch(dirfd int, names []string) error {
	for len(names) > batchSize {
		if err := w.batch(dirfd, names[:batchSize]); err != nil {
			return err
		}
		names = names[batchSize:]
	}
	type item struct {
		fd int
		e  Entry
	}
	var items []item
	defer func() {
		for _, it := range items {
			unix.Close(it.fd)
		}
	}()
	journaled := false
	for _, n := range names {
		name := n
		if name == "" {
			name = "."
		}
		fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", n, err)
		}
		st, err := statFd(fd, "")
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("stat %s: %w", n, err)
		}
		ino := st.Ino
		if !w.inTree(st) || w.seen[ino] {
			unix.Close(fd)
			continue
		}
		w.seen[ino] = true
		w.stats.Inodes++
		e, ok := w.prior[ino]
		if !ok {
			e = Entry{Ino: ino, UID: st.Uid, GID: st.Gid, Mode: uint32(st.Mode)}
			if st.Mode&unix.S_IFMT != unix.S_IFLNK {
				p := procPath(fd)
				e.ACL = getxattr(p, xattrACL)
				e.DefaultACL = getxattr(p, xattrDefaultACL)
				e.Cap = getxattr(p, xattrCap)
			}
			if err := WriteJournalEntry(w.journal, e); err != nil {
				unix.Close(fd)
				return fmt.Errorf("write shift journal: %w", err)
			}
			journaled = true
		}
		items = append(items, item{fd, e})
	}
	if journaled {
		if err := w.journal.Sync(); err != nil {
			return fmt.Errorf("write shift journal: %w", err)
		}
	}
	for _, it := range items {
		if err := w.apply(it.fd, it.e); err != nil {
			return err
		}
	}
	return nil
}

// apply gives the inode of O_PATH fd the ids its original ones have under
// the shift, and restores what chown(2) takes away (set-id bits, file
// capabilities).
func (w *walker) apply(fd int, e Entry) error {
	if failAfter > 0 && w.stats.Changed >= failAfter {
		return errInjected
	}
	uid, okU := w.uids.Map(e.UID)
	gid, okG := w.gids.Map(e.GID)
	if !okU || !okG {
		w.stats.Unmapped++
	}
	if err := unix.Fchownat(fd, "", int(uid), int(gid), unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown inode %d: %w", e.Ino, &os.SyscallError{Syscall: "fchownat", Err: err})
	}
	w.stats.Changed++
	if e.Mode&unix.S_IFMT == unix.S_IFLNK {
		return nil
	}
	p := procPath(fd)
	if e.Mode&(unix.S_ISUID|unix.S_ISGID) != 0 && e.Mode&unix.S_IFMT == unix.S_IFREG {
		if err := unix.Chmod(p, e.Mode&0o7777); err != nil {
			return fmt.Errorf("restore mode of inode %d: %w", e.Ino, err)
		}
	}
	for _, x := range []struct {
		name string
		v    []byte
		fn   func([]byte) ([]byte, error)
	}{
		{xattrACL, e.ACL, func(v []byte) ([]byte, error) { return ShiftACL(v, w.uids, w.gids) }},
		{xattrDefaultACL, e.DefaultACL, func(v []byte) ([]byte, error) { return ShiftACL(v, w.uids, w.gids) }},
		{xattrCap, e.Cap, func(v []byte) ([]byte, error) { return ShiftCap(v, w.uids) }},
	} {
		if x.v == nil {
			continue
		}
		v, err := x.fn(x.v)
		if err != nil {
			continue // malformed: left as it is
		}
		if err := unix.Setxattr(p, x.name, v, 0); err != nil {
			return fmt.Errorf("restore %s of inode %d: %w", x.name, e.Ino, &os.SyscallError{Syscall: "setxattr", Err: err})
		}
	}
	return nil
}

// procPath names the inode of fd itself (the magic link of an O_PATH fd),
// for the calls that take only a path: no lookup by name happens again.
func procPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// getxattr returns an xattr's value, nil when absent or unsupported.
func getxattr(path, name string) []byte {
	buf := make([]byte, 256)
	for {
		n, err := unix.Getxattr(path, name, buf)
		if errors.Is(err, unix.ERANGE) && len(buf) < 1<<16 {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if err != nil || n < 0 {
			return nil
		}
		return append([]byte(nil), buf[:n]...)
	}
}

// readDirNames lists a directory by fd, without "." and "..".
func readDirNames(dirfd int) ([]string, error) {
	d, err := unix.Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(d), "dir")
	defer f.Close()
	return f.Readdirnames(-1)
}

// treeID identifies a tree's root directory.
type treeID struct {
	dev, ino uint64
	birth    int64
}

// key is the tree's record name stem.
func (t treeID) key() string { return Key(t.dev, t.ino, t.birth) }

// same reports whether a record's identity is this tree's. A birth time
// counts only where both sides have one.
func (t treeID) same(dev, ino uint64, birth int64) bool {
	return t.dev == dev && t.ino == ino && (t.birth == 0 || birth == 0 || t.birth == birth)
}

// treeIdentity resolves tree to an absolute, symlink-free path and
// identifies its root directory.
func treeIdentity(tree string) (string, treeID, error) {
	abs, err := filepath.Abs(tree)
	if err != nil {
		return "", treeID{}, fmt.Errorf("shift %s: %w", tree, err)
	}
	path, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", treeID{}, fmt.Errorf("shift %s: %w", tree, err)
	}
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &stx); err != nil {
		return "", treeID{}, fmt.Errorf("shift %s: %w", path, &os.PathError{Op: "statx", Path: path, Err: err})
	}
	if stx.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", treeID{}, fmt.Errorf("shift %s: not a directory", path)
	}
	id := treeID{dev: unix.Mkdev(stx.Dev_major, stx.Dev_minor), ino: stx.Ino}
	if stx.Mask&unix.STATX_BTIME != 0 {
		id.birth = stx.Btime.Sec*1e9 + int64(stx.Btime.Nsec)
	}
	return path, id, nil
}
