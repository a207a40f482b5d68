package layer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"

	"golang.org/x/sys/unix"

	"vmlite/plan"
	"vmlite/uidmap"
)

// SameMap reports whether two id maps store owners alike.
func SameMap(a, b plan.IDMap) bool {
	return reflect.DeepEqual(a.UIDs, b.UIDs) && reflect.DeepEqual(a.GIDs, b.GIDs) ||
		!a.Enabled() && !b.Enabled()
}

// ShiftTree moves the owners of every inode below dir (not following
// links) from map from to map to: a guest layer's upper directory, small
// next to the image, when its guest's map changes or a clone freezes it.
// Ids outside from become the overflow id.
func ShiftTree(dir string, from, to plan.IDMap) error {
	if SameMap(from, to) {
		return nil
	}
	uids := uidmap.NewTranslator(from, to, uidmap.UID)
	gids := uidmap.NewTranslator(from, to, uidmap.GID)
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return &os.PathError{Op: "stat", Path: p, Err: err}
		}
		u, _ := uids.Map(st.Uid)
		g, _ := gids.Map(st.Gid)
		if u == st.Uid && g == st.Gid {
			return nil
		}
		if err := unix.Lchown(p, int(u), int(g)); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("shift owners: %w", &os.PathError{Op: "lchown", Path: p, Err: err})
		}
		// chown clears set-id bits of files: put them back.
		if st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o6000 != 0 {
			if err := unix.Chmod(p, st.Mode&0o7777); err != nil {
				return &os.PathError{Op: "chmod", Path: p, Err: err}
			}
		}
		return nil
	})
}
