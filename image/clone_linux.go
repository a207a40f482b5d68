package image

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"vmlite/image/layer"
	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// Clone gives guest dst a layer of its own over src's root as it is now,
// for vmlite clone: src's upper directory is frozen into a snapshot
// (images/snapshots/ID, stored with the image's own ids, as lower layers
// are) that becomes a lower layer of both guests, each with a new empty
// upper. With live (src running) the snapshot is a copy of src's upper and
// src keeps its layer as it is. A src that never started has no layer: dst
// gets none either and makes its own from the image on its first start.
// It returns the snapshot directory ("" when none was needed).
func (s *Store) Clone(src, dst string, live bool) (string, error) {
	l, err := s.lock()
	if err != nil {
		return "", err
	}
	defer l.Close()
	if _, err := os.Lstat(s.GuestLayerDir(dst)); err == nil {
		return "", fmt.Errorf("guest %s already has a layer (%s): %w; vmlite undefine --remove-storage %s drops it", dst, s.GuestLayerDir(dst), errdefs.ErrAlreadyExists, dst)
	}
	rec, ok, err := s.ReadGuestLayer(src)
	if err != nil || !ok {
		return "", err
	}
	srcDir := s.GuestLayerDir(src)
	upper := filepath.Join(srcDir, "upper")
	ents, err := os.ReadDir(upper)
	if err != nil {
		return "", fmt.Errorf("guest %s: read its layer: %w", src, err)
	}
	lowers := rec.Lowers
	snap := ""
	if len(ents) > 0 {
		id := make([]byte, 8)
		_, _ = rand.Read(id)
		snap = s.SnapshotDir(hex.EncodeToString(id))
		tmp := filepath.Join(s.tmpDir(), "snapshot-"+filepath.Base(snap))
		if live {
			err = CopyTree(upper, tmp)
		} else {
			err = os.Rename(upper, tmp)
		}
		if err == nil {
			err = layer.ShiftTree(tmp, rec.Stored, plan.IDMap{})
		}
		if err == nil {
			err = os.Rename(tmp, snap)
		}
		if err != nil {
			if !live {
				// Put src's upper back as it was.
				if _, serr := os.Lstat(upper); serr != nil {
					_ = layer.ShiftTree(tmp, plan.IDMap{}, rec.Stored)
					_ = os.Rename(tmp, upper)
				}
			}
			os.RemoveAll(tmp)
			return "", fmt.Errorf("guest %s: freeze its layer: %w", src, err)
		}
		lowers = append([]string{snap}, rec.Lowers...)
		if !live {
			// src goes on over the snapshot with an empty upper of its own.
			work := filepath.Join(srcDir, "work")
			if err := os.RemoveAll(work); err != nil {
				return "", err
			}
			for _, d := range []string{upper, work} {
				if err := os.Mkdir(d, 0o755); err != nil {
					return "", err
				}
			}
			nrec := rec
			nrec.Lowers, nrec.Stored = lowers, plan.IDMap{}
			if err := layer.Write(srcDir, nrec); err != nil {
				return "", err
			}
		}
	}
	if err := layer.Create(s.GuestLayerDir(dst), GuestLayer{Guest: dst, Image: rec.Image, ImageID: rec.ImageID, Lowers: lowers}); err != nil {
		return "", err
	}
	return snap, nil
}

// CopyTree copies the tree at src to dst (which must not exist) as it is
// on disk: owners, modes, times, xattrs (overlayfs's whiteouts and opaque
// flags among them), device nodes, hard links.
func CopyTree(src, dst string) error {
	links := map[[2]uint64]string{}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return &os.PathError{Op: "stat", Path: p, Err: err}
		}
		key := [2]uint64{st.Dev, st.Ino}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR && st.Nlink > 1 {
			if first, ok := links[key]; ok {
				return os.Link(first, to)
			}
			links[key] = to
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if err := os.Mkdir(to, 0o700); err != nil {
				return err
			}
		case unix.S_IFREG:
			if err := copyFile(p, to); err != nil {
				return err
			}
		case unix.S_IFLNK:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(t, to); err != nil {
				return err
			}
		case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
			if err := unix.Mknod(to, st.Mode&unix.S_IFMT|0o600, int(st.Rdev)); err != nil {
				return &os.PathError{Op: "mknod", Path: to, Err: err}
			}
		default:
			return nil // sockets: not content
		}
		if err := unix.Lchown(to, int(st.Uid), int(st.Gid)); err != nil {
			return &os.PathError{Op: "lchown", Path: to, Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			if err := unix.Chmod(to, st.Mode&0o7777); err != nil {
				return &os.PathError{Op: "chmod", Path: to, Err: err}
			}
		}
		if err := copyXattrs(p, to); err != nil {
			return err
		}
		ts := []unix.Timespec{st.Atim, st.Mtim}
		return unix.UtimesNanoAt(unix.AT_FDCWD, to, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil { // copy_file_range where it can
		out.Close()
		return fmt.Errorf("copy %s: %w", from, err)
	}
	return out.Close()
}

func copyXattrs(from, to string) error {
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(from, buf)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil
		}
		return &os.PathError{Op: "listxattr", Path: from, Err: err}
	}
	val := make([]byte, 64<<10)
	for _, k := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if k == "" {
			continue
		}
		m, err := unix.Lgetxattr(from, k, val)
		if err != nil {
			continue
		}
		if err := unix.Lsetxattr(to, k, val[:m], 0); err != nil && !errors.Is(err, unix.EPERM) {
			return &os.PathError{Op: "setxattr " + k, Path: to, Err: err}
		}
	}
	return nil
}
