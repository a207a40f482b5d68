package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// nspawn (no machined here, --keep-unit) makes its payload and supervisor
// cgroups below its own cgroup in the tree systemd places processes by:
// the cgroup2 tree where there is one (a v2 host; a hybrid host's unified
// mount, where systemd mirrors the path into name=systemd), name=systemd
// on a v1 host without one. Started where the harness runs, those would
// be shared with every other nspawn started there (another harness's, a
// test's), and the harness could not tell which are its own. So the
// nspawns of a run start in a cgroup of that run's own, named after its
// pid (nspawnCgroupName), and the clean-up removes that subtree, in every
// hierarchy, and no other nspawn cgroup.

// nspawnCgroupName is the cgroup (directly below each hierarchy's root)
// this run's nspawns start in.
func nspawnCgroupName() string { return fmt.Sprintf("vmbench-%d.nspawn", os.Getpid()) }

// nspawnCgroup starts commands in this run's nspawn cgroup: in a cgroup2
// tree, born there (CLONE_INTO_CGROUP); in name=systemd (v1 only), forked
// by a thread that was moved there alone (v1 places each thread; a child
// starts in its forking thread's cgroup), so the harness's other threads
// stay where they are.
type nspawnCgroup struct {
	fd   int           // cgroup2: the cgroup's directory; -1 in name=systemd
	reqs chan startReq // name=systemd: to the thread in the cgroup
	done chan struct{} // name=systemd: closed once that thread is back home

	mu     sync.Mutex // guards closed (and the send on reqs)
	closed bool
}

type startReq struct {
	cmd *exec.Cmd
	err chan error
}

// newNspawnCgroup makes this run's nspawn cgroup.
func newNspawnCgroup() (*nspawnCgroup, error) {
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(root, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return cgroup2Starter(root)
		}
	}
	root := "/sys/fs/cgroup/systemd"
	var st unix.Statfs_t
	if unix.Statfs(root, &st) != nil || st.Type != unix.CGROUP_SUPER_MAGIC {
		return nil, errors.New("neither a cgroup2 tree nor a name=systemd hierarchy")
	}
	return threadStarter(root)
}

// cgroup2Starter makes the cgroup in the cgroup2 tree at root.
func cgroup2Starter(root string) (*nspawnCgroup, error) {
	dir := filepath.Join(root, nspawnCgroupName())
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = unix.Rmdir(dir)
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return &nspawnCgroup{fd: fd}, nil
}

// threadStarter makes the cgroup in the v1 hierarchy at root, and the
// thread that starts commands from it.
func threadStarter(root string) (*nspawnCgroup, error) {
	dir := filepath.Join(root, nspawnCgroupName())
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	c := &nspawnCgroup{fd: -1, reqs: make(chan startReq), done: make(chan struct{})}
	ready := make(chan error, 1)
	go c.thread(root, dir, ready)
	if err := <-ready; err != nil {
		_ = unix.Rmdir(dir)
		return nil, err
	}
	return c, nil
}

// thread moves its thread into dir and starts the commands it is sent
// from there; at the end it moves the thread back (so that dir can go).
// Never the process's main thread: /proc/PID/cgroup shows that one's, so
// the harness itself would seem moved (memCgroupOf and the like).
func (c *nspawnCgroup) thread(root, dir string, ready chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// While this goroutine holds the main thread, the next one runs
		// on another.
		locked := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(locked)
			c.serve(root, dir, ready)
		}()
		<-locked
		runtime.UnlockOSThread()
		return
	}
	c.serve(root, dir, ready)
}

// serve is thread's work on a locked thread other than the main one.
func (c *nspawnCgroup) serve(root, dir string, ready chan<- error) {
	tid := strconv.Itoa(unix.Gettid())
	home, err := v1CgroupOf("/proc/thread-self/cgroup", root)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "tasks"), []byte(tid), 0)
	}
	ready <- err
	if err != nil {
		runtime.UnlockOSThread()
		return
	}
	for r := range c.reqs {
		r.err <- r.cmd.Start()
	}
	if err := os.WriteFile(filepath.Join(root, home, "tasks"), []byte(tid), 0); err != nil {
		// Still in dir: the thread ends with this goroutine (locked).
		logf("nspawn cgroup: move the starting thread back: %v", err)
	} else {
		runtime.UnlockOSThread()
	}
	close(c.done)
}

// v1CgroupOf reads the path in the v1 hierarchy mounted at root (named
// by its directory: systemd is name=systemd) from a /proc/.../cgroup file.
func v1CgroupOf(file, root string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	name := filepath.Base(root)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) == 3 && (f[1] == name || f[1] == "name="+name) {
			return f[2], nil
		}
	}
	return "", fmt.Errorf("%s: no line of the hierarchy at %s", file, root)
}

// start starts cmd (its SysProcAttr set) in the cgroup.
func (c *nspawnCgroup) start(cmd *exec.Cmd) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return errors.New("start " + cmd.Path + ": the run's nspawn cgroup is closed")
	case c.fd >= 0:
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, c.fd
		return cmd.Start()
	}
	r := startReq{cmd: cmd, err: make(chan error, 1)}
	c.reqs <- r
	return <-r.err
}

// close ends the starting thread (the cgroup's directories go with the
// run's other cgroups: removeNewCgroups).
func (c *nspawnCgroup) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	if c.fd >= 0 {
		unix.Close(c.fd)
		return
	}
	close(c.reqs)
	<-c.done
}
