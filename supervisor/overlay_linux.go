package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"vmlite/image/layer"
	"vmlite/plan"
	"vmlite/uidmap"
)

// registerLayerRemoval registers the removal of the guest's layer: when
// this start fails and the layer is fresh (made for it by launch.Prepare,
// under the image store's lock: image.Claim), and at the end of a
// transient guest, whose layer nothing can name afterwards. It is
// registered first thing, so that a start failing anywhere removes a
// fresh layer; the supervisor makes no layer itself: one made here,
// without the store's lock, could lie over layers an image rm is removing.
func (s *Supervisor) registerLayerRemoval() {
	ov := s.p.Rootfs.Overlay
	if ov == nil {
		return
	}
	fresh := ov.Fresh
	s.hostRevert.Add("remove guest layer", func() error {
		if s.p.Transient || fresh && !s.booted.Load() {
			return layer.Remove(ov.LayerDir)
		}
		return nil
	})
}

// setupLayer readies the guest's layer for the guest's ids.
func (s *Supervisor) setupLayer() error {
	ov := s.p.Rootfs.Overlay
	if ov == nil {
		return nil
	}
	if err := s.layerOwners(ov.LayerDir); err != nil {
		return &plan.StepFailure{Step: "prepare the guest's layer", XMLPath: s.p.Rootfs.XMLPath, Err: err}
	}
	return nil
}

// layerOwners stores the guest's upper directory with the guest's host
// ids: overlayfs creates upper files as its mounter (host root) and then
// gives them the writer's ids, which through an idmapped upper would have
// to include host root; so the upper is a plain directory owned by the
// guest's root, shifted when the guest's map is not the one it was made
// with (layer.ShiftTree).
func (s *Supervisor) layerOwners(dir string) error {
	rec, err := layer.Read(dir)
	if err != nil {
		return err
	}
	want := plan.IDMap{UIDs: s.p.IDMap.UIDs, GIDs: s.p.IDMap.GIDs}
	upper := filepath.Join(dir, "upper")
	if !layer.SameMap(rec.Stored, want) {
		s.log.Printf("%s: stored for map %s, the guest has %s: shifting its owners", upper, uidmap.String(rec.Stored), uidmap.String(want))
		if err := layer.ShiftTree(upper, rec.Stored, want); err != nil {
			return err
		}
		rec.Stored = want
		if err := layer.Write(dir, rec); err != nil {
			return err
		}
	}
	uid, gid := s.p.IDMap.HostRoot()
	var st unix.Stat_t
	if err := unix.Lstat(upper, &st); err != nil {
		return &os.PathError{Op: "stat", Path: upper, Err: err}
	}
	if st.Uid == 0 && st.Gid == 0 && (uid != 0 || gid != 0) {
		// A fresh upper: its root is the guest's root directory.
		if err := unix.Lchown(upper, int(uid), int(gid)); err != nil {
			return &os.PathError{Op: "chown", Path: upper, Err: err}
		}
	}
	return nil
}

// overlayTree mounts the guest's root from its image: overlayfs with the
// image's layers (top first) below the guest's upper directory, every
// layer handed over as a detached mount fd (fsconfig FSCONFIG_SET_FD,
// Linux >= 6.13). For a mapped guest each lower layer is an idmapped
// clone, so the shared layers are never chowned or copied; the upper is
// the guest's own, stored with its host ids (layerOwners). The result is
// a detached mount for __init to attach; it goes away with the guest's
// mount namespace.
func (s *Supervisor) overlayTree(pid int) (int, error) {
	ov := s.p.Rootfs.Overlay
	step := func(what string, err error) error {
		return &plan.StepFailure{Step: "mount the root from image " + ov.Image, XMLPath: s.p.Rootfs.XMLPath, Err: fmt.Errorf("%s: %w", what, err)}
	}
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, step("fsopen overlay", err)
	}
	defer unix.Close(fsfd)
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	layer := func(path string) (int, error) {
		fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return -1, &os.PathError{Op: "open_tree", Path: path, Err: err}
		}
		fds = append(fds, fd)
		if s.p.Rootfs.IDMapped {
			if err := idmapTree(fd, pid); err != nil {
				return -1, fmt.Errorf("%s: %w", path, err)
			}
		}
		return fd, nil
	}
	config := func(key string, fd int) error {
		if err := unix.FsconfigSetFd(fsfd, key, fd); err != nil {
			return fmt.Errorf("overlayfs %s: %w%s", key, err, fsLog(fsfd))
		}
		return nil
	}
	for _, l := range ov.Lowers {
		fd, err := layer(l)
		if err != nil {
			return -1, step("image layer", err)
		}
		if err := config("lowerdir+", fd); err != nil {
			return -1, step("image layer "+l, err)
		}
	}
	own, err := unix.OpenTree(unix.AT_FDCWD, ov.LayerDir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, step("guest layer", &os.PathError{Op: "open_tree", Path: ov.LayerDir, Err: err})
	}
	fds = append(fds, own)
	for _, d := range []string{"upper", "work"} {
		fd, err := unix.Openat(own, d, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, step("guest layer", &os.PathError{Op: "open", Path: ov.LayerDir + "/" + d, Err: err})
		}
		fds = append(fds, fd)
		if err := config(d+"dir", fd); err != nil {
			return -1, step("guest layer", err)
		}
	}
	// Many guests share the lower layers: no inode index binding a lower to
	// one upper (docker's choice too).
	if err := unix.FsconfigSetString(fsfd, "index", "off"); err != nil {
		return -1, step("overlayfs options", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, step("create overlayfs", fmt.Errorf("%w%s", err, fsLog(fsfd)))
	}
	mnt, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return -1, step("fsmount overlayfs", fmt.Errorf("%w%s", err, fsLog(fsfd)))
	}
	return mnt, nil
}

// fsLog reads the messages the kernel left on a filesystem context.
func fsLog(fsfd int) string {
	var msgs []string
	buf := make([]byte, 4096)
	for range 16 {
		n, err := unix.Read(fsfd, buf)
		if err != nil || n <= 0 {
			break
		}
		msgs = append(msgs, strings.TrimSpace(string(buf[:n])))
	}
	if len(msgs) == 0 {
		return ""
	}
	return " (" + strings.Join(msgs, "; ") + ")"
}
