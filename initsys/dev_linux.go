package initsys

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The standard device nodes every guest gets: copies of the host's (same
// type, numbers, mode and owner) made with mknod in the guest's /dev for a
// guest without a user namespace, as LXC's autodev does; a mapped guest
// attaches the supervisor's copies owned by its root (attachNode: mknod is
// EPERM in a user namespace). A copy is no mount: six fewer per guest to
// make (mount and its namespace lock are most of a mass boot's set-up in
// __init, bench/README.md) and to keep, and a guest's chmod of its
// /dev/null is its own, not the host's.
var stdDevices = []string{"null", "zero", "full", "random", "urandom", "tty"}

var devSymlinks = [][2]string{
	{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
}

// populateDev gives the guest a fresh /dev: a tmpfs with only the standard
// nodes, its own devpts instance, /dev/shm and /dev/mqueue.
func (g *guest) populateDev() error {
	t, err := g.mountPoint("/dev", false, 0o755)
	if err != nil {
		return userStepErr("mount /dev", g.p.Rootfs.XMLPath, err)
	}
	err = unix.Mount("tmpfs", t.Path(), "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755,size=65536k")
	t.Close()
	if err != nil {
		return stepErr("mount /dev", "", &os.PathError{Op: "mount", Path: "/dev", Err: err})
	}
	dev := g.inRoot("/dev") // our tmpfs now
	for _, n := range stdDevices {
		if err := g.stdNode(dev, n); err != nil {
			return stepErr("create /dev/"+n, "", err)
		}
	}
	for _, n := range g.p.Devices {
		if err := g.bindNode(n.HostPath, n.GuestPath); err != nil {
			return userStepErr("pass through "+n.HostPath, n.XMLPath, err)
		}
	}
	for _, l := range devSymlinks {
		if err := os.Symlink(l[0], dev+"/"+l[1]); err != nil {
			return stepErr("create /dev/"+l[1], "", err)
		}
	}
	pts := dev + "/pts"
	if err := os.Mkdir(pts, 0o755); err != nil {
		return stepErr("mount /dev/pts", "", err)
	}
	// gid=5 is the tty group; a guest whose map lacks gid 5 gets no gid option.
	opts := "newinstance,ptmxmode=0666,mode=0620,gid=5"
	err = unix.Mount("devpts", pts, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, opts)
	if errors.Is(err, unix.EINVAL) {
		err = unix.Mount("devpts", pts, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
	}
	if err != nil {
		return stepErr("mount /dev/pts", "", &os.PathError{Op: "mount", Path: pts, Err: err})
	}
	shm := dev + "/shm"
	if err := os.Mkdir(shm, 0o1777); err != nil {
		return stepErr("mount /dev/shm", "", err)
	}
	if err := unix.Mount("shm", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777,size=65536k"); err != nil {
		return stepErr("mount /dev/shm", "", &os.PathError{Op: "mount", Path: shm, Err: err})
	}
	mq := dev + "/mqueue"
	if err := os.Mkdir(mq, 0o755); err == nil {
		// Best effort: a kernel without POSIX message queues still boots guests.
		_ = unix.Mount("mqueue", mq, "mqueue", mntNoSuidDevExec, "")
	}
	return nil
}

// mountConsoles binds each console's pty slave (received as an fd) over
// /dev/console or /dev/ttyN.
func (g *guest) mountConsoles() error {
	for i, c := range g.p.Consoles {
		if i >= len(g.consolePaths) {
			return stepErr("set up "+c.Name, c.XMLPath, fmt.Errorf("no pty from the supervisor"))
		}
		t, err := g.mountPoint(c.GuestPath, true, 0o755)
		if err != nil {
			return stepErr("set up "+c.Name, c.XMLPath, err)
		}
		// From our own O_PATH fd: the inherited fd (plan.InitConsoleFD)
		// belongs to the supervisor's mount namespace, which mount refuses.
		src := g.nodeSource(g.consolePaths[i])
		err = unix.Mount(src, t.Path(), "", unix.MS_BIND, "")
		t.Close()
		if err != nil {
			return stepErr("set up "+c.Name, c.XMLPath, &os.PathError{Op: "mount", Path: c.GuestPath, Err: err})
		}
	}
	return nil
}

// stdNode gives the guest /dev/name in dev (its fresh /dev tmpfs): the
// supervisor's copy for a mapped guest, a copy of the host's node made
// here otherwise, or, where mknod is refused (a security module), the
// host's node bound.
func (g *guest) stdNode(dev, name string) error {
	hostPath := "/dev/" + name
	if _, mapped := g.devNodes[hostPath]; mapped {
		return g.bindNode(hostPath, hostPath)
	}
	var st unix.Stat_t
	if err := unix.Stat(g.nodeSource(hostPath), &st); err != nil {
		return &os.PathError{Op: "stat", Path: hostPath, Err: err}
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFCHR && t != unix.S_IFBLK {
		return fmt.Errorf("%s on the host is not a device node (mode %o)", hostPath, st.Mode)
	}
	dst := dev + "/" + name
	if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
		if errors.Is(err, unix.EPERM) {
			return g.bindNode(hostPath, hostPath)
		}
		return &os.PathError{Op: "mknod", Path: hostPath, Err: err}
	}
	// mknod applied our umask; the owner is the host node's (tty's group).
	if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
		return &os.PathError{Op: "chmod", Path: hostPath, Err: err}
	}
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return &os.PathError{Op: "chown", Path: hostPath, Err: err}
	}
	return nil
}

// bindNode binds the host device node hostPath onto guest path dst
// (created as an empty file).
func (g *guest) bindNode(hostPath, dst string) error {
	if ok, err := g.attachNode(hostPath, dst); ok {
		return err
	}
	src := g.nodeSource(hostPath)
	// Refuse anything but a device node: a host whose /dev/null became a
	// regular file would otherwise hand that file to every guest.
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeDevice == 0 {
		return fmt.Errorf("%s on the host is not a device node (mode %v)", hostPath, fi.Mode())
	}
	t, err := g.mountPoint(dst, true, 0o755)
	if err != nil {
		return err
	}
	defer t.Close()
	if err := unix.Mount(src, t.Path(), "", unix.MS_BIND, ""); err != nil {
		return &os.PathError{Op: "mount", Path: dst, Err: err}
	}
	return nil
}
