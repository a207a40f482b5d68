package initsys

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"vmlite/plan"
)

// Paths in /proc that stay visible but read-only: writing them would reach
// the host kernel (runc's list).
var procReadOnly = []string{"sys", "sysrq-trigger", "irq", "bus", "fs"}

// Paths in /proc and /sys that are hidden: they leak host kernel state or
// allow host-wide actions. runc's and moby's default lists plus debugfs and
// securityfs; powercap's energy counters are a side channel (CVE-2020-8694).
var maskedPaths = []string{
	"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/latency_stats",
	"/proc/acpi", "/proc/scsi", "/proc/asound", "/sys/firmware", "/sys/kernel/debug", "/sys/kernel/security",
	"/sys/devices/virtual/powercap", "/sys/fs/selinux",
}

const (
	mntNoSuidDevExec = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
)

// mountAPIFilesystems mounts the guest's own /proc, /sys and /run.
func (g *guest) mountAPIFilesystems() error {
	// proc of the guest's pid namespace (we are its pid 1).
	if err := g.mountAt("/proc", 0o555, "proc", "proc", mntNoSuidDevExec, ""); err != nil {
		return err
	}
	for _, p := range procReadOnly {
		path := g.inRoot("/proc/" + p)
		if _, err := os.Stat(path); err != nil {
			continue // absent on this kernel
		}
		if err := unix.Mount(path, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return stepErr("protect /proc/"+p, "", &os.PathError{Op: "mount", Path: path, Err: err})
		}
		if err := remountReadOnly(path); err != nil {
			return stepErr("protect /proc/"+p, "", err)
		}
	}
	// sysfs of the guest's network namespace, read-only as libvirt does.
	if err := g.mountAt("/sys", 0o555, "sysfs", "sysfs", mntNoSuidDevExec|unix.MS_RDONLY, ""); err != nil {
		return err
	}
	if !g.restPending { // else with MsgRest (run)
		if err := g.bindProcFS(); err != nil {
			return err
		}
	}
	if !g.joinPending { // else once joined (run)
		if err := g.mountCgroups(); err != nil {
			return err
		}
	}
	if err := g.maskPaths(); err != nil {
		return err
	}
	return g.mountAt("/run", 0o755, "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755,size=20%")
}

// mountAt mounts a fresh filesystem on guest directory dir, made (mode)
// inside the root when missing.
func (g *guest) mountAt(dir string, mode os.FileMode, source, fstype string, flags uintptr, data string) error {
	t, err := g.mountPoint(dir, false, mode)
	if err != nil {
		return userStepErr("mount "+dir, g.p.Rootfs.XMLPath, err)
	}
	defer t.Close()
	if err := unix.Mount(source, t.Path(), fstype, flags, data); err != nil {
		return stepErr("mount "+dir, "", &os.PathError{Op: "mount", Path: dir, Err: err})
	}
	return nil
}

// maskPaths hides maskedPaths: /dev/null over files, an empty read-only
// tmpfs over directories. The directories share one tmpfs, the first one's,
// bound over the others: each tmpfs instance is a superblock of its own
// (with its shrinker, which every memory cgroup on the host then tracks),
// a bind is one mount. That tmpfs is the supervisor's, shared by all its
// guests, when it sent one; else __init mounts its own.
func (g *guest) maskPaths() error {
	const flags = unix.MS_RDONLY | mntNoSuidDevExec
	empty := "" // the first masked directory, holding the empty tmpfs
	for _, p := range maskedPaths {
		path := g.inRoot(p)
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		switch {
		case !fi.IsDir():
			err = unix.Mount("/dev/null", path, "", unix.MS_BIND, "")
		case empty == "" && g.maskTree >= 0:
			// The supervisor's clone of its one empty tmpfs
			// (supervisor/masktree_linux.go), read-only already.
			if err = unix.MoveMount(g.maskTree, "", unix.AT_FDCWD, path, unix.MOVE_MOUNT_F_EMPTY_PATH); err == nil {
				unix.Close(g.maskTree)
				g.maskTree = -1
				empty = path
			}
		case empty == "":
			if err = unix.Mount("tmpfs", path, "tmpfs", flags, "size=0,mode=555"); err == nil {
				empty = path
			}
		default:
			// A bind ignores the other flags: read-only and the rest
			// come with a remount of the bind.
			if err = unix.Mount(empty, path, "", unix.MS_BIND, ""); err == nil {
				err = unix.Mount("", path, "", unix.MS_REMOUNT|unix.MS_BIND|flags, "")
			}
		}
		if err != nil {
			return stepErr("mask "+p, "", &os.PathError{Op: "mount", Path: path, Err: err})
		}
	}
	return nil
}

// mountFilesystems applies the <filesystem> elements after the root.
func (g *guest) mountFilesystems() error {
	for i, m := range g.p.Mounts {
		if g.mountTree(i) >= 0 {
			if err := g.attachTree(i, m); err != nil {
				return err
			}
			continue
		}
		if err := g.mountOne(m); err != nil {
			return err
		}
	}
	return nil
}

func (g *guest) mountOne(m plan.Mount) error {
	step := fmt.Sprintf("mount %s on %s", m.Kind, m.Target)
	var t *mountTarget
	var err error
	switch m.Kind {
	case plan.MountBind, plan.MountGuest:
		src := m.Source
		if m.Kind == plan.MountGuest {
			src = g.inRoot(m.Source)
		}
		fi, err := os.Stat(src)
		if err != nil {
			return userStepErr(step, m.XMLPath, err)
		}
		if t, err = g.mountPoint(m.Target, !fi.IsDir(), 0o755); err != nil {
			return userStepErr(step, m.XMLPath, err)
		}
		defer t.Close()
		if err := unix.Mount(src, t.Path(), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return stepErr(step, m.XMLPath, &os.PathError{Op: "mount", Path: m.Target, Err: err})
		}
	case plan.MountTmpfs:
		if t, err = g.mountPoint(m.Target, false, 0o755); err != nil {
			return userStepErr(step, m.XMLPath, err)
		}
		defer t.Close()
		opts := "mode=755"
		if m.SizeBytes > 0 {
			opts += fmt.Sprintf(",size=%d", m.SizeBytes)
		}
		if err := unix.Mount("tmpfs", t.Path(), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
			return stepErr(step, m.XMLPath, &os.PathError{Op: "mount", Path: m.Target, Err: err})
		}
	case plan.MountBlock:
		if t, err = g.mountPoint(m.Target, false, 0o755); err != nil {
			return userStepErr(step, m.XMLPath, err)
		}
		defer t.Close()
		if err := mountBlock(m.Source, t.Path(), m.FSType); err != nil {
			return stepErr(step, m.XMLPath, err)
		}
	default:
		return stepErr(step, m.XMLPath, fmt.Errorf("unknown mount kind %q", m.Kind))
	}
	if m.ReadOnly {
		if err := remountReadOnly(g.inRoot(m.Target)); err != nil {
			return stepErr(step, m.XMLPath, err)
		}
	}
	return nil
}

// mountBlock mounts a block device, trying the common filesystems when the
// type is not given (the kernel has no "auto").
func mountBlock(dev, target, fstype string) error {
	types := []string{fstype}
	if fstype == "" {
		types = []string{"ext4", "xfs", "btrfs", "vfat", "iso9660"}
	}
	var last error
	for _, t := range types {
		err := unix.Mount(dev, target, t, unix.MS_NOSUID, "")
		if err == nil {
			return nil
		}
		last = &os.PathError{Op: "mount " + t, Path: dev, Err: err}
	}
	return last
}
