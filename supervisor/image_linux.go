package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/plan"
)

// imageFSTypes are tried in order on an attached image: the new mount API
// has no "auto", and these are what image builders make (squashfs and
// erofs read-only).
var imageFSTypes = []string{"ext4", "squashfs", "erofs", "xfs", "btrfs", "vfat", "iso9660"}

// imageTree attaches the image file of <filesystem type='file'> (a loop
// device, or qemu-nbd; where the host has no nbd, qemu-storage-daemon's
// FUSE export under a loop device) and returns its filesystem as a detached mount for
// __init to attach, as hostTree does for a directory: nothing is mounted in
// the host's mount namespace. A loop device is made with autoclear and the
// supervisor keeps no descriptor of it, so it goes away with the guest's
// last reference to the mount, on every stop and every failed start; an
// nbd device is disconnected once the boot's processes are dead. The image file itself is
// locked (flock) for the boot: one guest at a time.
func (s *Supervisor) imageTree(img *plan.Image, ro bool, xmlPath string, idmapped bool, pid int) (fd int, err error) {
	fail := func(user bool, format string, args ...any) (int, error) {
		return -1, &plan.StepFailure{Step: "attach image " + img.File, XMLPath: xmlPath, User: user, Err: fmt.Errorf(format, args...)}
	}
	flags := os.O_RDWR
	if ro {
		flags = os.O_RDONLY
	}
	f, err := os.OpenFile(img.File, flags|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fail(errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || errors.Is(err, unix.ELOOP), "%w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return fail(true, "%s is not a regular file", img.File)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return fail(true, "%s is in use by another guest (or process): an image is attached to one guest at a time", img.File)
	}
	if dev := loopBacking(img.File); dev != "" {
		f.Close()
		return fail(true, "%s is already attached to %s (another guest, or losetup): detach it first (losetup -d %s)", img.File, dev, dev)
	}
	s.afterKill = append(s.afterKill, f.Close) // the image lock
	var dev, via string
	var devFile *os.File // the loop device, closed once the filesystem holds it
	switch {
	case img.Driver == "nbd" && freeNBD() != "":
		if dev, err = s.attachNBD(img, ro); err != nil {
			return fail(true, "%w", err)
		}
		via = " (qemu-nbd)"
	case img.Driver == "nbd":
		// No nbd driver (or every device taken): qemu-storage-daemon
		// serves the image as a raw file, and a loop device takes that.
		export, err := s.exportFUSE(img, ro)
		if err != nil {
			return fail(true, "%w", err)
		}
		ef, err := os.OpenFile(export, flags|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail(false, "%w", err)
		}
		devFile, err = attachLoop(ef, export, ro)
		ef.Close()
		if err != nil {
			return fail(false, "%w", err)
		}
		dev = devFile.Name()
		defer devFile.Close()
		via = " (qemu-storage-daemon FUSE export " + export + ", no nbd device on this host)"
	default:
		if devFile, err = attachLoop(f, img.File, ro); err != nil {
			return fail(false, "%w", err)
		}
		dev = devFile.Name()
		defer devFile.Close()
	}
	tree, err := mountImage(dev, ro)
	if err != nil {
		if img.Format != "" && img.Format != "raw" {
			return fail(true, "%s: %w (is the %s image intact? qemu-img check %s)", img.File, err, img.Format, img.File)
		}
		return fail(true, "%s: %w", img.File, err)
	}
	if idmapped {
		if err := idmapTree(tree, pid); err != nil {
			unix.Close(tree)
			return fail(true, "%s: %w (an image is never shifted on disk: use an ext4 image, or a guest without <idmap>)", img.File, err)
		}
	}
	s.log.Printf("image %s attached on %s%s", img.File, dev, via)
	return tree, nil
}

// attachLoop attaches f to a free loop device with autoclear (and
// read-only when ro); the device goes away when its last user does.
func attachLoop(f *os.File, name string, ro bool) (*os.File, error) {
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("loop devices: %w", err)
	}
	defer ctl.Close()
	cfg := unix.LoopConfig{Fd: uint32(f.Fd())}
	cfg.Info.Flags = unix.LO_FLAGS_AUTOCLEAR
	if ro {
		cfg.Info.Flags |= unix.LO_FLAGS_READ_ONLY
	}
	copy(cfg.Info.File_name[:unix.LO_NAME_SIZE-1], name)
	flags := os.O_RDWR
	if ro {
		flags = os.O_RDONLY
	}
	// Another process may take the free device first: ask again.
	for try := 0; try < 16; try++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, fmt.Errorf("find a free loop device: %w", err)
		}
		dev, err := os.OpenFile(fmt.Sprintf("/dev/loop%d", n), flags|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open loop device: %w", err)
		}
		err = unix.IoctlLoopConfigure(int(dev.Fd()), &cfg)
		if err == nil {
			return dev, nil
		}
		dev.Close()
		if !errors.Is(err, unix.EBUSY) {
			return nil, fmt.Errorf("attach %s to %s: %w", name, dev.Name(), err)
		}
	}
	return nil, fmt.Errorf("attach %s: every free loop device was taken meanwhile", name)
}

// loopBacking returns the loop device whose backing file is path, if any.
func loopBacking(path string) string {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		real = path
	}
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	for _, bf := range files {
		b, err := os.ReadFile(bf)
		if err == nil && strings.TrimSpace(string(b)) == real {
			return "/dev/" + filepath.Base(filepath.Dir(filepath.Dir(bf)))
		}
	}
	return ""
}

// mountImage makes a detached mount of the filesystem on dev, trying each
// of imageFSTypes.
func mountImage(dev string, ro bool) (int, error) {
	var tried []string
	for _, t := range imageFSTypes {
		fsfd, err := unix.Fsopen(t, unix.FSOPEN_CLOEXEC)
		if err != nil {
			continue // not in this kernel
		}
		tried = append(tried, t)
		err = unix.FsconfigSetString(fsfd, "source", dev)
		if err == nil && ro {
			err = unix.FsconfigSetFlag(fsfd, "ro")
		}
		if err == nil {
			err = unix.FsconfigCreate(fsfd)
		}
		if err != nil {
			unix.Close(fsfd)
			continue
		}
		attrs := 0
		if ro {
			attrs = unix.MOUNT_ATTR_RDONLY
		}
		tree, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrs)
		unix.Close(fsfd)
		if err != nil {
			return -1, fmt.Errorf("mount %s (%s): %w", dev, t, err)
		}
		return tree, nil
	}
	return -1, fmt.Errorf("not a filesystem image the kernel can mount (tried %s)", strings.Join(tried, ", "))
}

// freeNBD returns a /dev/nbdN that no qemu-nbd serves, or "" when the
// host has no nbd driver or every device is connected.
func freeNBD() string {
	if _, err := os.Stat("/sys/module/nbd"); err != nil {
		return ""
	}
	for i := 0; ; i++ {
		if _, err := os.Stat(fmt.Sprintf("/sys/block/nbd%d", i)); err != nil {
			return ""
		}
		if _, err := os.Stat(fmt.Sprintf("/sys/block/nbd%d/pid", i)); err != nil {
			return fmt.Sprintf("/dev/nbd%d", i)
		}
	}
}

// attachNBD connects img to a free /dev/nbdN with qemu-nbd (as libvirt's
// LXC controller does: the first choice where the host has nbd) and
// registers the disconnect with the boot's undo.
func (s *Supervisor) attachNBD(img *plan.Image, ro bool) (string, error) {
	qemuNBD, err := exec.LookPath("qemu-nbd")
	if err != nil {
		return "", fmt.Errorf("qemu-nbd not found: install qemu-utils")
	}
	dev := freeNBD()
	if dev == "" {
		return "", fmt.Errorf("no free nbd device (all of /dev/nbd* are connected)")
	}
	args := []string{"--connect=" + dev, "--format=" + img.Format}
	if ro {
		args = append(args, "--read-only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	out, err := exec.CommandContext(ctx, qemuNBD, append(args, img.File)...).CombinedOutput()
	cancel()
	if err != nil {
		return "", fmt.Errorf("qemu-nbd %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	s.afterKill = append(s.afterKill, func() error {
		if out, err := exec.Command(qemuNBD, "--disconnect", dev).CombinedOutput(); err != nil {
			return fmt.Errorf("qemu-nbd --disconnect %s: %w: %s", dev, err, out)
		}
		return nil
	})
	return dev, nil
}
