package supervisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"vmlite/cgroup/devices"
	"vmlite/guestnet"
	"vmlite/internal/detachedfs"
	"vmlite/plan"
	"vmlite/state"
)

// Devices of a running guest, attached and detached as libvirt's LXC
// driver does it (lxcDomainAttachDeviceDiskLive, ...NetLive,
// ...HostdevLive and their detach twins): a node is allowed in the guest's
// device allow-list and made in its /dev, an interface is created in its
// network namespace; detach undoes exactly that. Each change is complete
// or not made at all, and once made it is recorded in the plan (so that a
// reboot brings the same devices) and the live XML (dumpxml).

// changeDevice attaches or detaches c on the running guest.
func (s *Supervisor) changeDevice(attach bool, c *plan.DeviceChange) error {
	s.hotMu.Lock()
	defer s.hotMu.Unlock()
	st := s.snapshot()
	if (st.Status != state.Running && st.Status != state.Paused) || st.InitPID <= 0 {
		return fmt.Errorf("guest %s is %s: devices change on a running guest only", s.p.Name, st.Status)
	}
	if c == nil || (c.Node == nil) == (c.Interface == nil) {
		return errors.New("bad device change: give one node or one interface")
	}
	p := *s.p // changed on a copy, installed once done
	var err error
	switch {
	case c.Node != nil && attach:
		p.Devices, err = s.attachNode(st.InitPID, p.Devices, *c.Node)
	case c.Node != nil:
		p.Devices, err = s.detachNode(st.InitPID, p.Devices, *c.Node)
	case attach:
		p.Interfaces, err = s.attachInterface(st.InitPID, p.Interfaces, *c.Interface)
	default:
		p.Interfaces, err = s.detachInterface(p.Interfaces, *c.Interface)
	}
	if err != nil {
		return err
	}
	if c.DomainXML != "" {
		p.DomainXML = c.DomainXML
	}
	return s.recordPlan(&p)
}

// recordPlan makes p's devices, interfaces and live XML the guest's: the
// next boot (a reboot) gets them, plan.json and the live XML say them.
// hotMu must be held. The plan pointer itself is never replaced: the
// control socket's goroutines and the main loop read s.p (its name, paths,
// stop signals, lifecycle) without hotMu, while only the fields set here
// differ in p, and those are read under hotMu alone (boots, this).
func (s *Supervisor) recordPlan(p *plan.Plan) error {
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	s.p.Devices, s.p.Interfaces, s.p.DomainXML = p.Devices, p.Interfaces, p.DomainXML
	s.planJSON = b
	if err := state.WriteRuntimeFile(p.Paths.PlanFile, b, 0o600); err != nil {
		return fmt.Errorf("the device is changed, but recording the launch plan failed: %w", err)
	}
	if p.DomainXML != "" {
		if err := state.WriteRuntimeFile(p.Paths.LiveXML, []byte(p.DomainXML), 0o600); err != nil {
			return fmt.Errorf("the device is changed, but recording the live XML failed: %w", err)
		}
	}
	return nil
}

// attachNode allows d in the guest's device allow-list and makes its node
// in the guest's /dev, or does neither.
func (s *Supervisor) attachNode(pid int, devs []plan.Device, d plan.Device) ([]plan.Device, error) {
	for _, o := range devs {
		if o.GuestPath == d.GuestPath {
			return nil, fmt.Errorf("guest %s has %s already (%s)", s.p.Name, d.GuestPath, o.XMLPath)
		}
	}
	rule, err := devices.ForNode(d.HostPath)
	if err != nil {
		return nil, err
	}
	rule.Access = d.Access()
	next := append(slices.Clip(devs), d)
	if err := s.setDeviceRules(devs, next, &rule, true); err != nil {
		return nil, err
	}
	tree, err := s.nodeTree(d.HostPath)
	if err == nil {
		err = s.inGuestMounts(pid, func() error {
			uid, gid := s.p.IDMap.HostRoot()
			return placeNode(tree, d.GuestPath, int(uid), int(gid))
		})
		unix.Close(tree)
	}
	if err != nil {
		if rerr := s.setDeviceRules(next, devs, &rule, false); rerr != nil {
			err = errors.Join(err, fmt.Errorf("take the device rule back: %w", rerr))
		}
		return nil, fmt.Errorf("make %s in the guest: %w", d.GuestPath, err)
	}
	s.log.Printf("attached %s as %s (%s)", d.HostPath, d.GuestPath, rule)
	return next, nil
}

// detachNode removes the node d.GuestPath from the guest's /dev and its
// rule from the allow-list (unless another device still needs it).
func (s *Supervisor) detachNode(pid int, devs []plan.Device, d plan.Device) ([]plan.Device, error) {
	i := slices.IndexFunc(devs, func(o plan.Device) bool { return o.GuestPath == d.GuestPath })
	if i < 0 {
		return nil, fmt.Errorf("guest %s has no device %s", s.p.Name, d.GuestPath)
	}
	old := devs[i]
	rest := slices.Delete(slices.Clone(devs), i, i+1)
	var rule *devices.Rule
	err := s.inGuestMounts(pid, func() error {
		uid, gid := s.p.IDMap.HostRoot()
		r, err := removeNode(old.GuestPath, int(uid), int(gid))
		rule = r
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("remove %s from the guest: %w", old.GuestPath, err)
	}
	if rule == nil {
		// The guest removed the node itself: the rule is the host node's.
		r, err := devices.ForNode(old.HostPath)
		if err != nil {
			return nil, fmt.Errorf("%s is gone from the guest, and its rule is unknown: %w", old.GuestPath, err)
		}
		rule = &r
	}
	rule.Access = "rwm"
	if err := s.setDeviceRules(devs, rest, rule, false); err != nil {
		return nil, fmt.Errorf("%s is removed from the guest, but its device rule stays: %w", old.GuestPath, err)
	}
	s.log.Printf("detached %s (%s)", old.GuestPath, rule)
	return rest, nil
}

// setDeviceRules moves the allow-list from the one of devs before to the
// one of after: on cgroup v1 by writing rule to devices.allow (allow) or
// devices.deny (unless a rule of after still covers it); on v2 by
// replacing the BPF device program.
func (s *Supervisor) setDeviceRules(before, after []plan.Device, rule *devices.Rule, allow bool) error {
	if s.cg == nil {
		return errors.New("the guest has no cgroup")
	}
	paths := s.cg.Paths()
	if dir, ok := paths["devices"]; ok {
		if allow {
			return devices.AllowV1(dir, *rule)
		}
		rules, err := deviceRules(after)
		if err != nil {
			return err
		}
		for _, r := range rules {
			if r.Covers(*rule) {
				return nil
			}
		}
		return devices.DenyV1(dir, *rule)
	}
	if dir, ok := paths["unified"]; ok {
		rules, err := deviceRules(after)
		if err != nil {
			return err
		}
		return devices.ApplyV2(dir, rules)
	}
	s.log.Printf("no device allow-list on this host: %s changes in /dev only", rule)
	return nil
}

// nodeTree returns a detached mount of the node for the guest: for a
// mapped guest a copy owned by its root on a private tmpfs (as devNodes
// makes them at boot), else a bind of the host's node (as __init binds
// them).
func (s *Supervisor) nodeTree(host string) (int, error) {
	if !s.p.IDMap.Enabled() {
		var st unix.Stat_t
		if err := unix.Stat(host, &st); err != nil {
			return -1, &os.PathError{Op: "stat", Path: host, Err: err}
		}
		if t := st.Mode & unix.S_IFMT; t != unix.S_IFCHR && t != unix.S_IFBLK {
			return -1, fmt.Errorf("%s on the host is not a device node", host)
		}
		fd, err := unix.OpenTree(unix.AT_FDCWD, host, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return -1, &os.PathError{Op: "open_tree", Path: host, Err: err}
		}
		return fd, nil
	}
	mnt, err := detachedfs.Tmpfs([][2]string{{"mode", "0755"}}, false, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(mnt)
	uid, gid := s.p.IDMap.HostRoot()
	return copyNode(mnt, "node", host, int(uid), int(gid))
}

// inGuestMounts runs f in the mount namespace of the guest's init pid, on
// a thread of its own that no longer shares its filesystem context
// (unshare CLONE_FS, which setns into a mount namespace requires of a
// threaded process) and is never given back to the Go runtime.
func (s *Supervisor) inGuestMounts(pid int, f func() error) error {
	ns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open mount namespace of the guest's init: %w", err)
	}
	defer unix.Close(ns)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			done <- &os.SyscallError{Syscall: "unshare(CLONE_FS)", Err: err}
			return
		}
		if err := unix.Setns(ns, unix.CLONE_NEWNS); err != nil {
			done <- &os.SyscallError{Syscall: "setns", Err: err}
			return
		}
		done <- f()
	}()
	return <-done
}

// guestDir opens (and with create, makes) directory dir of the guest, in
// its mount namespace, following no symlink: the guest owns its tree.
// Directories made are owned by the guest's root (uid, gid).
func guestDir(dir string, create bool, uid, gid int) (int, error) {
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "/", Err: err}
	}
	for _, c := range strings.Split(strings.Trim(filepath.Clean(dir), "/"), "/") {
		if c == "" {
			continue
		}
		how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH}
		next, err := unix.Openat2(fd, c, how)
		if errors.Is(err, unix.ENOENT) && create {
			if err = unix.Mkdirat(fd, c, 0o755); err == nil || errors.Is(err, unix.EEXIST) {
				if err == nil {
					_ = unix.Fchownat(fd, c, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
				}
				next, err = unix.Openat2(fd, c, how)
			}
		}
		unix.Close(fd)
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: dir, Err: err}
		}
		fd = next
	}
	return fd, nil
}

// actAs makes this thread create files as the guest's root (uid, gid): a
// mapped guest's /dev is a tmpfs of its user namespace, where ids it does
// not map (the host's root) cannot own files (EOVERFLOW).
func actAs(uid, gid int) {
	if uid != 0 || gid != 0 {
		_ = unix.Setfsgid(gid)
		_ = unix.Setfsuid(uid)
	}
}

// placeNode attaches the detached node tree at guest path p: an empty file
// made there (the mount point; an existing one is refused) gets the node
// mounted over it.
func placeNode(tree int, p string, uid, gid int) error {
	actAs(uid, gid)
	dir, base := filepath.Split(filepath.Clean(p))
	dfd, err := guestDir(dir, true, uid, gid)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	fd, err := unix.Openat(dfd, base, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("%s exists in the guest already", p)
	}
	if err != nil {
		return &os.PathError{Op: "create", Path: p, Err: err}
	}
	unix.Close(fd)
	err = unix.MoveMount(tree, "", dfd, base, unix.MOVE_MOUNT_F_EMPTY_PATH)
	if err != nil {
		_ = unix.Unlinkat(dfd, base, 0)
		return &os.PathError{Op: "move_mount", Path: p, Err: err}
	}
	return nil
}

// removeNode unmounts and removes the node at guest path p and returns the
// rule its device had (nil when nothing was there any more).
func removeNode(p string, uid, gid int) (*devices.Rule, error) {
	actAs(uid, gid)
	dir, base := filepath.Split(filepath.Clean(p))
	dfd, err := guestDir(dir, false, 0, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	var st unix.Stat_t
	err = unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	var rule *devices.Rule
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR, unix.S_IFBLK:
		t := byte('c')
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			t = 'b'
		}
		rule = &devices.Rule{Type: t, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev))}
	}
	// Relative to the directory, on this thread's own cwd: no path of the
	// guest's is walked again.
	if err := unix.Fchdir(dfd); err != nil {
		return nil, &os.SyscallError{Syscall: "fchdir", Err: err}
	}
	if err := unix.Unmount(base, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil && !errors.Is(err, unix.EINVAL) {
		return nil, &os.PathError{Op: "umount", Path: p, Err: err}
	}
	if err := unix.Unlinkat(dfd, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return nil, &os.PathError{Op: "unlink", Path: p, Err: err}
	}
	return rule, nil
}

// attachInterface creates it in the guest's network namespace (from the
// host side, as at boot); its removal is registered with the boot's undo,
// so it goes at the next stop or reboot if it is not detached first.
func (s *Supervisor) attachInterface(pid int, ifaces []plan.Interface, it plan.Interface) ([]plan.Interface, error) {
	if s.p.Shares("net") {
		return nil, fmt.Errorf("guest %s shares another's network namespace: it has no interfaces of its own", s.p.Name)
	}
	for _, o := range ifaces {
		switch {
		case o.MAC == it.MAC:
			return nil, fmt.Errorf("guest %s has an interface with MAC %s already (%s)", s.p.Name, it.MAC, o.GuestName)
		case o.GuestName == it.GuestName:
			return nil, fmt.Errorf("guest %s has an interface %s already", s.p.Name, it.GuestName)
		case it.HostName != "" && o.HostName == it.HostName:
			return nil, fmt.Errorf("guest %s has host link %s already", s.p.Name, it.HostName)
		}
	}
	undo, err := guestnet.Setup([]plan.Interface{it}, pid)
	if err != nil {
		return nil, err
	}
	s.bootRevert.Add("remove network link "+it.GuestName, undo)
	s.log.Printf("attached interface %s (host %s, %s)", it.GuestName, it.HostName, it.MAC)
	return append(slices.Clip(ifaces), it), nil
}

// detachInterface deletes the guest's veth with it's MAC, as libvirt's
// LXC driver detaches only veths (bridge, network, ethernet).
func (s *Supervisor) detachInterface(ifaces []plan.Interface, it plan.Interface) ([]plan.Interface, error) {
	i := slices.IndexFunc(ifaces, func(o plan.Interface) bool { return o.MAC == it.MAC })
	if i < 0 {
		return nil, fmt.Errorf("guest %s has no interface with MAC %s", s.p.Name, it.MAC)
	}
	old := ifaces[i]
	switch old.Type {
	case "bridge", "network", "ethernet":
	default:
		return nil, fmt.Errorf("interface %s is type %s: only veth interfaces (bridge, network, ethernet) can be detached from a running guest, as libvirt's LXC driver", old.GuestName, old.Type)
	}
	if err := guestnet.DeleteVeth(old.HostName); err != nil {
		return nil, err
	}
	s.log.Printf("detached interface %s (host %s, %s)", old.GuestName, old.HostName, old.MAC)
	return slices.Delete(slices.Clone(ifaces), i, i+1), nil
}
