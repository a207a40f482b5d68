package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"vmlite/cgroup/devices"
)

// EntryError names the tar entry a layer failed at.
type EntryError struct {
	Entry string
	Err   error
}

func (e *EntryError) Error() string { return fmt.Sprintf("entry %q: %v", e.Entry, e.Err) }
func (e *EntryError) Unwrap() error { return e.Err }

// extractor writes one layer's tar stream into an empty directory as an
// overlayfs lower layer. Every path is resolved relative to the layer's root
// fd with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS): no entry is written
// through a symlink (an archive's own or one it made earlier), so nothing
// lands outside the root whatever the links say. Links are stored as they
// are: their targets mean something only in the guest's root.
type extractor struct {
	root    int // O_PATH fd of the layer directory
	rootDir *os.Root
	dirs    []dirTime // directory mtimes, set last (creating children changes them)
	// The parent directory of the last entry, open: archives list a
	// directory's entries together. Dropped whenever an entry removes
	// anything, which is the only way the path could come to mean another
	// directory.
	lastDir string
	lastFD  int
}

func (x *extractor) cachedParent(dir string) (int, error) {
	if x.lastFD >= 0 && x.lastDir == dir {
		return x.lastFD, nil
	}
	x.dropCache()
	fd, err := x.parent(dir)
	if err != nil {
		return -1, err
	}
	x.lastDir, x.lastFD = dir, fd
	return fd, nil
}

func (x *extractor) dropCache() {
	if x.lastFD >= 0 {
		unix.Close(x.lastFD)
	}
	x.lastDir, x.lastFD = "", -1
}

type dirTime struct {
	path string
	ts   [2]unix.Timespec
}

// extractLayer extracts tar stream r into dir, which must exist and be
// empty (a fresh temporary directory of the store); it returns the number
// of entries.
func extractLayer(r io.Reader, dir string) (int, error) {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(root)
	rd, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	x := &extractor{root: root, rootDir: rd, lastFD: -1}
	defer x.dropCache()
	tr := tar.NewReader(r)
	n := 0
	for ; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("read the layer's tar stream: %w", err)
		}
		if err := x.entry(h, tr); err != nil {
			return n, &EntryError{Entry: h.Name, Err: err}
		}
	}
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		fd, err := x.openDir(d.path, unix.O_PATH)
		if err != nil {
			continue // replaced by a later entry
		}
		_ = unix.UtimesNanoAt(fd, "", d.ts[:], unix.AT_EMPTY_PATH)
		unix.Close(fd)
	}
	return n, nil
}

// openDir opens a directory below the root without following any symlink.
func (x *extractor) openDir(rel string, flags int) (int, error) {
	if rel == "" {
		rel = "."
	}
	how := &unix.OpenHow{
		Flags:   uint64(flags | unix.O_DIRECTORY | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	for {
		fd, err := unix.Openat2(x.root, rel, how)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err == unix.ELOOP {
			return -1, fmt.Errorf("%w: the path goes through a symbolic link", ErrBadEntry)
		}
		if err == unix.ENOTDIR {
			return -1, fmt.Errorf("%w: the path goes through something that is not a directory", ErrBadEntry)
		}
		return fd, err
	}
}

// parent opens (creating missing directories, 0755 root, as tar does) the
// parent directory of e.
func (x *extractor) parent(dir string) (int, error) {
	fd, err := x.openDir(dir, unix.O_PATH)
	if err == nil || !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	cur := ""
	for _, c := range strings.Split(dir, "/") {
		if cur == "" {
			cur = c
		} else {
			cur += "/" + c
		}
		if err := x.rootDir.Mkdir(cur, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return -1, err
		}
	}
	return x.openDir(dir, unix.O_PATH)
}

func (x *extractor) entry(h *tar.Header, r io.Reader) error {
	e, err := parseEntry(h.Name)
	if err != nil {
		return err
	}
	if e.Base == "" { // the root itself
		if h.Typeflag != tar.TypeDir {
			return fmt.Errorf("%w: the root must be a directory", ErrBadEntry)
		}
		return x.dirMeta("", h)
	}
	pfd, err := x.cachedParent(e.Dir)
	if err != nil {
		return err
	}
	switch e.kind {
	case entryWhiteout:
		if err := x.clear(e, pfd, false); err != nil {
			return err
		}
		return unix.Mknodat(pfd, e.Base, unix.S_IFCHR, 0)
	case entryOpaque:
		if err := x.mkdir(e, pfd, 0o755); err != nil {
			return err
		}
		fd, err := x.openDir(e.Path(), unix.O_RDONLY)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Fsetxattr(fd, "trusted.overlay.opaque", []byte("y"), 0)
	}
	mode := uint32(h.Mode) & 0o7777
	switch h.Typeflag {
	case tar.TypeDir:
		if err := x.mkdir(e, pfd, 0o700); err != nil {
			return err
		}
		return x.dirMeta(e.Path(), h)
	case tar.TypeReg, tar.TypeRegA: //lint:ignore SA1019 archives from old tars still carry it
		if err := x.clear(e, pfd, false); err != nil {
			return err
		}
		fd, err := unix.Openat(pfd, e.Base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return &os.PathError{Op: "create", Path: e.Path(), Err: err}
		}
		f := os.NewFile(uintptr(fd), e.Path())
		defer f.Close()
		if _, err := io.Copy(f, r); err != nil {
			return fmt.Errorf("write %s: %w", e.Path(), err)
		}
		if err := f.Chown(h.Uid, h.Gid); err != nil {
			return err
		}
		if err := unix.Fchmod(fd, mode); err != nil { // after chown, which clears set-id bits
			return &os.PathError{Op: "chmod", Path: e.Path(), Err: err}
		}
		if err := setXattrs(fd, h); err != nil {
			return err
		}
		return unix.UtimesNanoAt(pfd, e.Base, times(h), unix.AT_SYMLINK_NOFOLLOW)
	case tar.TypeSymlink:
		if err := x.clear(e, pfd, false); err != nil {
			return err
		}
		if err := unix.Symlinkat(h.Linkname, pfd, e.Base); err != nil {
			return &os.PathError{Op: "symlink", Path: e.Path(), Err: err}
		}
		return x.meta(e, pfd, h, false)
	case tar.TypeLink:
		t, err := parseLinkTarget(h.Linkname)
		if err != nil {
			return err
		}
		tfd, err := x.openDir(t.Dir, unix.O_PATH)
		if err != nil {
			return fmt.Errorf("hard link target %q: %w", h.Linkname, err)
		}
		defer unix.Close(tfd)
		if err := x.clear(e, pfd, false); err != nil {
			return err
		}
		if err := unix.Linkat(tfd, t.Base, pfd, e.Base, 0); err != nil {
			return fmt.Errorf("hard link to %q: %w", h.Linkname, err)
		}
		return nil
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		typ := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[h.Typeflag]
		if typ != unix.S_IFIFO && !(typ == unix.S_IFCHR && h.Devmajor == 0 && h.Devminor == 0) && !allowedDevice(typ, h.Devmajor, h.Devminor) {
			kind := map[uint32]string{unix.S_IFCHR: "character", unix.S_IFBLK: "block"}[typ]
			return fmt.Errorf("%w: a %s device %d:%d, which a guest may not use (only the standard nodes: null, zero, full, random, urandom, tty, console, ptmx)",
				ErrBadEntry, kind, h.Devmajor, h.Devminor)
		}
		if err := x.clear(e, pfd, false); err != nil {
			return err
		}
		dev := int(unix.Mkdev(uint32(h.Devmajor), uint32(h.Devminor)))
		if err := unix.Mknodat(pfd, e.Base, typ|0o600, dev); err != nil {
			return &os.PathError{Op: "mknod", Path: e.Path(), Err: err}
		}
		return x.meta(e, pfd, h, true)
	default:
		return fmt.Errorf("%w: tar entry type %q is not supported", ErrBadEntry, h.Typeflag)
	}
}

// allowedDevice: the devices every guest may use (devices.Standard); any
// other node in an image is refused rather than stored unusable (or usable
// once a <hostdev> opens that number).
func allowedDevice(typ uint32, major, minor int64) bool {
	t := byte('c')
	if typ == unix.S_IFBLK {
		t = 'b'
	}
	for _, r := range devices.Standard {
		if r.Type == t && (r.Major == devices.Wildcard || r.Major == major) && (r.Minor == devices.Wildcard || r.Minor == minor) {
			return true
		}
	}
	return false
}

// clear removes what is at e in this layer (a later entry replaces an
// earlier one), except a directory when keepDir.
func (x *extractor) clear(e entry, pfd int, keepDir bool) error {
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, e.Base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return &os.PathError{Op: "stat", Path: e.Path(), Err: err}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if keepDir {
			return nil
		}
		err := x.rootDir.RemoveAll(e.Path())
		x.invalidate(pfd)
		return err
	}
	err := unix.Unlinkat(pfd, e.Base, 0)
	x.invalidate(pfd)
	return err
}

// mkdir makes directory e unless it is one already.
func (x *extractor) mkdir(e entry, pfd int, mode uint32) error {
	if err := x.clear(e, pfd, true); err != nil {
		return err
	}
	if err := unix.Mkdirat(pfd, e.Base, mode); err != nil && !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "mkdir", Path: e.Path(), Err: err}
	}
	return nil
}

// dirMeta sets a directory's owner, mode and xattrs now, its mtime last.
func (x *extractor) dirMeta(rel string, h *tar.Header) error {
	fd, err := x.openDir(rel, unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, h.Uid, h.Gid); err != nil {
		return &os.PathError{Op: "chown", Path: rel, Err: err}
	}
	if err := unix.Fchmod(fd, uint32(h.Mode)&0o7777); err != nil {
		return &os.PathError{Op: "chmod", Path: rel, Err: err}
	}
	if err := setXattrs(fd, h); err != nil {
		return err
	}
	x.dirs = append(x.dirs, dirTime{rel, [2]unix.Timespec(times(h))})
	return nil
}

// meta sets owner, mode (unless a symlink), xattrs and times of the
// non-directory e just created by this extractor.
func (x *extractor) meta(e entry, pfd int, h *tar.Header, chmod bool) error {
	if err := unix.Fchownat(pfd, e.Base, h.Uid, h.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "chown", Path: e.Path(), Err: err}
	}
	if chmod {
		// e is the node just made in our private directory, not a link.
		if err := unix.Fchmodat(pfd, e.Base, uint32(h.Mode)&0o7777, 0); err != nil {
			return &os.PathError{Op: "chmod", Path: e.Path(), Err: err}
		}
	}
	for k, v := range xattrs(h) {
		if refusedXattr(k) {
			return fmt.Errorf("%w: extended attribute %s belongs to overlayfs", ErrBadEntry, k)
		}
		// The l* call on /proc/self/fd/N/BASE: N is the parent, BASE not followed.
		if err := unix.Lsetxattr(fmt.Sprintf("/proc/self/fd/%d/%s", pfd, e.Base), k, []byte(v), 0); err != nil && !errors.Is(err, unix.EPERM) {
			return &os.PathError{Op: "setxattr " + k, Path: e.Path(), Err: err}
		}
	}
	return unix.UtimesNanoAt(pfd, e.Base, times(h), unix.AT_SYMLINK_NOFOLLOW)
}

// setXattrs sets the PAX xattr records of h on fd.
func setXattrs(fd int, h *tar.Header) error {
	for k, v := range xattrs(h) {
		if refusedXattr(k) {
			return fmt.Errorf("%w: extended attribute %s belongs to overlayfs", ErrBadEntry, k)
		}
		if err := unix.Fsetxattr(fd, k, []byte(v), 0); err != nil {
			return &os.PathError{Op: "setxattr " + k, Path: h.Name, Err: err}
		}
	}
	return nil
}

func xattrs(h *tar.Header) map[string]string {
	var out map[string]string
	for k, v := range h.PAXRecords {
		if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = v
		}
	}
	return out
}

func times(h *tar.Header) []unix.Timespec {
	at := h.AccessTime
	if at.IsZero() {
		at = h.ModTime
	}
	return []unix.Timespec{unix.NsecToTimespec(at.UnixNano()), unix.NsecToTimespec(h.ModTime.UnixNano())}
}

// invalidate drops the cached parent after a removal, unless it is pfd,
// the directory the removal happened in (still the same directory).
func (x *extractor) invalidate(pfd int) {
	if x.lastFD != pfd {
		x.dropCache()
	}
}
