package supervisor

import (
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/plan"
	"vmlite/procfs"
)

// procFSTrees are read-only clones (open_tree OPEN_TREE_CLONE) of the
// guest's files on the /proc server, which __init attaches over the
// guest's /proc and /sys files with move_mount. Made here, on a goroutine
// started before the clone, the path walks through FUSE (a lookup per
// path component, and the server renders a file for each lookup) run
// beside __init's exec and the host set-up instead of inside __init's
// set-up, and __init's attach costs the server no request at all (a bind
// by path cost lookups and a remount's statfs per file).
type procFSTrees struct {
	done chan struct{}
	mu   sync.Mutex
	fds  map[string]int // procfs.Files entry -> tree
	// abandoned: the boot no longer waits; the goroutine closes what it
	// still makes.
	abandoned bool
	// devs are the devices of the server's mounts the clones are of.
	devs []uint64
}

// cloneProcFS starts cloning the guest's files; nil without a server.
// The guest must be registered with the server (attachProcFS) first: the
// server makes guests/NAME only for a registered name.
func (s *Supervisor) cloneProcFS() *procFSTrees {
	if s.p.Paths.ProcFS == "" {
		return nil
	}
	t := &procFSTrees{done: make(chan struct{}), fds: map[string]int{}}
	dir := procfs.Layout{Dir: s.p.Paths.ProcFS}.GuestFiles(s.p.Name)
	go func() {
		defer close(t.done)
		for _, f := range procfs.Files {
			fd, err := cloneReadOnly(filepath.Join(dir, f))
			if err != nil {
				continue // __init binds this one by path, and reports its failure
			}
			// AT_STATX_DONT_SYNC: the kernel's cached attributes, no
			// request to the server (dead or alive, the device is the mount's).
			var stx unix.Statx_t
			statErr := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_STATX_DONT_SYNC, 0, &stx)
			t.mu.Lock()
			if statErr == nil {
				t.devs = append(t.devs, unix.Mkdev(stx.Dev_major, stx.Dev_minor))
			}
			if t.abandoned {
				unix.Close(fd)
			} else {
				t.fds[f] = fd
			}
			t.mu.Unlock()
		}
	}()
	return t
}

// rebindIfRestarted binds the files of a server that was restarted since
// the clones were made: a new server binds its files again in the running
// guests it finds registered with their init's pid, and this guest's pid
// may have been registered (procFSRunning) only after that pass, with
// clones of the dead mount attached. A bind by path in __init saw the new
// mount instead. Binding twice (the server did too) stacks a live file on
// a live one, which is harmless.
func (s *Supervisor) rebindIfRestarted(t *procFSTrees, pid int) {
	if t == nil || s.p.Paths.ProcFS == "" {
		return
	}
	t.mu.Lock()
	devs := t.devs
	t.mu.Unlock()
	l := procfs.Layout{Dir: s.p.Paths.ProcFS}
	var st unix.Stat_t
	if len(devs) == 0 || unix.Stat(l.Mountpoint(), &st) != nil {
		return // a dead server: its successor finds the pid registered
	}
	stale := false
	for _, d := range devs {
		stale = stale || d != st.Dev
	}
	if !stale {
		return
	}
	if err := procfs.Rebind(s.procFSEntry(pid), s.cgMode, l.Mountpoint()); err != nil {
		s.log.Printf("bind the files of the restarted /proc server: %v (the next server binds them when it starts)", err)
		return
	}
	s.log.Printf("the /proc server was restarted since the guest's files were cloned: its files bound again")
}

func cloneReadOnly(path string) (int, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, err
	}
	// The server's mount is read-only already; the clone says so itself,
	// as the remount after a bind by path did.
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// wait returns the clones once all are made, within d (a server that does
// not answer fails the boot here, as it failed __init's bind before).
func (t *procFSTrees) wait(d time.Duration) (map[string]int, error) {
	if t == nil {
		return nil, nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.done:
		return t.fds, nil
	case <-timer.C:
		t.close()
		return nil, &plan.StepFailure{Step: "clone the /proc server's files", XMLPath: "/domain/metadata/config/procfs", Err: fmt.Errorf("no answer from the /proc server after %v", d)}
	}
}

// close closes the clones (attached by __init or not: an attached mount
// stays), and those still to come.
func (t *procFSTrees) close() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.abandoned = true
	for f, fd := range t.fds {
		unix.Close(fd)
		delete(t.fds, f)
	}
}

// procFSRights appends the clones to rights, returning the index of each.
func procFSRights(rights []int, trees map[string]int) ([]int, map[string]int) {
	if len(trees) == 0 {
		return rights, nil
	}
	idx := make(map[string]int, len(trees))
	for f, fd := range trees {
		idx[f] = len(rights)
		rights = append(rights, fd)
	}
	return rights, idx
}
