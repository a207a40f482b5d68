package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// manager implements Manager for both modes: the directory work is the same,
// the limit and statistics files differ (limits_v1.go, limits_v2.go,
// stats.go).
type manager struct {
	mode Mode
	hs   []hierarchy
	// rel is vmlite/<partition...>/<name>, the same in every hierarchy.
	rel    string
	limits plan.Limits
	dirs   dirOps
	// devnum resolves a block device path to "MAJ:MIN" (faked in tests).
	devnum func(path string) (string, error)
	// killTimeout bounds how long Kill waits for the subtree to empty.
	killTimeout time.Duration
}

func newManager(mode Mode, hs []hierarchy, rel string, l plan.Limits, d dirOps) *manager {
	return &manager{mode: mode, hs: hs, rel: rel, limits: l, dirs: d, devnum: deviceNumber, killTimeout: 10 * time.Second}
}

// leaf is the guest's directory in h.
func (m *manager) leaf(h hierarchy) string { return filepath.Join(h.root, m.rel) }

// write writes value to file in h, refusing any path outside h's vmlite tree.
func (m *manager) write(h hierarchy, path, value string) error {
	if !within(h.root, path) {
		return fmt.Errorf("refusing to write %s: outside %s", path, filepath.Join(h.root, TopDir))
	}
	return writeFile(path, value)
}

// Create implements Manager. On failure it removes the directories this
// call made, and only those: a leaf or parent that was there before (a
// running guest's, another root's) is left as it was, never killed.
func (m *manager) Create() error {
	var err error
	var made []string
	// A sibling guest's Destroy may remove a shared parent between our
	// mkdir of it and our use of it (ENOENT, ENODEV): start over. Each
	// round either succeeds or lost a race that another guest won, so a
	// few rounds suffice.
	for attempt := 0; attempt < 20; attempt++ {
		if err = m.mkdirs(m.hs, &made); err == nil || !gone(err) {
			break
		}
	}
	if err == nil {
		err = m.apply(m.limits)
		var w Warnings
		if errors.As(err, &w) {
			return err // applied but for what the host cannot enforce
		}
	}
	if err != nil {
		for i := len(made) - 1; i >= 0; i-- {
			_ = m.dirs.Rmdir(made[i]) // empty: no process ran in it yet
		}
	}
	return err
}

// mkdirs creates the guest's directories in the hierarchies hs (m.hs or
// some of them), recording in made each one it created.
func (m *manager) mkdirs(hs []hierarchy, made *[]string) error {
	elems := strings.Split(m.rel, string(filepath.Separator))
	for _, h := range hs {
		if ok, err := m.mkdirLeaf(h, elems, made); err != nil || ok {
			if err != nil {
				return err
			}
			continue
		}
		for i := range elems {
			dir := filepath.Join(h.root, filepath.Join(elems[:i+1]...))
			isLeaf := i == len(elems)-1
			err := m.dirs.Mkdir(dir)
			switch {
			case err == nil:
				*made = append(*made, dir)
			case !errors.Is(err, fs.ErrExist):
				return fmt.Errorf("create cgroup %s: %w", dir, err)
			case isLeaf:
				// Left over by a supervisor that died: reuse it if empty.
				pids, perr := m.procsIn(dir)
				if perr != nil {
					return perr
				}
				if len(pids) > 0 {
					return fmt.Errorf("cgroup %s holds processes %v (another guest's, or one vmlite did not start): %w", dir, pids, errdefs.ErrAlreadyExists)
				}
			case i > 0:
				// A partition is only ever a parent: processes in it mean
				// it is a guest's own cgroup (<resource><partition> naming
				// another guest), whose stop would kill this guest and
				// whose limits it would share.
				if err := m.checkNotGuest(dir); err != nil {
					return err
				}
			}
			if err := m.prepare(h, dir, isLeaf); err != nil {
				return err
			}
		}
	}
	return nil
}

// mkdirLeaf is mkdirs' common case in h: vmlite/ and the partition exist
// (made by the guests before, and readied then), so the leaf's mkdir
// alone succeeds, and only the partition's check and the leaf's own
// preparation are left: a start in a running partition costs one mkdir
// per hierarchy, not one per level and the parents' control files read
// again (cpuset's cpus and mems, cgroup2's controllers). false when the
// leaf is there already or a parent is not: mkdirs then walks the levels.
func (m *manager) mkdirLeaf(h hierarchy, elems []string, made *[]string) (bool, error) {
	if len(elems) < 3 {
		return false, nil // vmlite/NAME: no partition below vmlite/
	}
	leaf := m.leaf(h)
	if err := m.dirs.Mkdir(leaf); err != nil {
		return false, nil
	}
	*made = append(*made, leaf)
	for i := 1; i < len(elems)-1; i++ {
		if err := m.checkNotGuest(filepath.Join(h.root, filepath.Join(elems[:i+1]...))); err != nil {
			return false, err
		}
	}
	return true, m.prepare(h, leaf, true)
}

// checkNotGuest refuses a partition directory that holds processes itself.
func (m *manager) checkNotGuest(dir string) error {
	s, err := readString(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		if gone(err) {
			return nil
		}
		return fmt.Errorf("read processes of %s: %w", dir, err)
	}
	pids, err := parsePids(s)
	if err != nil {
		return fmt.Errorf("%s/cgroup.procs: %w", dir, err)
	}
	if len(pids) > 0 {
		return fmt.Errorf("cgroup partition %s holds processes %v: it is a guest's cgroup, not a partition; fix: choose a <resource><partition> outside every guest's cgroup: %w: %w",
			dir, pids, ErrPartition, errdefs.ErrInvalid)
	}
	return nil
}

// prepare readies a directory we just made (or found) below vmlite/.
func (m *manager) prepare(h hierarchy, dir string, isLeaf bool) error {
	switch {
	case h.v2 && !isLeaf:
		return m.enableControllers(h, dir)
	case !h.v2 && h.has("cpuset"):
		// A new v1 cpuset has empty cpus and mems, and a task cannot join
		// it (ENOSPC) until both are set: inherit the parent's.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if err := m.inherit(h, dir, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// inherit copies file from dir's parent when dir's is empty.
func (m *manager) inherit(h hierarchy, dir, file string) error {
	cur, err := readString(filepath.Join(dir, file))
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	if strings.TrimSpace(cur) != "" {
		return nil
	}
	v, err := readString(filepath.Join(filepath.Dir(dir), file))
	if err != nil {
		return fmt.Errorf("read parent's %s: %w", file, err)
	}
	return m.write(h, filepath.Join(dir, file), v)
}

// enableControllers turns on, in dir's cgroup.subtree_control, every
// controller the parent hands down to dir, so that the guest (and its own
// init, once delegated) can use them. Only called for vmlite/ and the
// partition dirs: the host's root is never written.
func (m *manager) enableControllers(h hierarchy, dir string) error {
	avail, err := readString(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("read controllers of %s: %w", dir, err)
	}
	on, err := readString(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return fmt.Errorf("read subtree_control of %s: %w", dir, err)
	}
	enabled := strings.Fields(on)
	var missing []string
	for _, c := range strings.Fields(avail) {
		if !contains(enabled, c) {
			missing = append(missing, "+"+c)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// One write enables them all, or none if one fails (say a controller
	// the kernel refuses here): then try them one by one. Best effort: the
	// limits check the controllers they need and say which one is missing.
	p := filepath.Join(dir, "cgroup.subtree_control")
	if err := m.write(h, p, strings.Join(missing, " ")); err == nil {
		return nil
	}
	for _, c := range missing {
		_ = m.write(h, p, c)
	}
	return nil
}

// Apply implements Manager.
func (m *manager) Apply(pid int) error {
	for _, h := range m.hs {
		p := filepath.Join(m.leaf(h), "cgroup.procs")
		if err := m.write(h, p, strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("move pid %d into %s: %w", pid, m.leaf(h), err)
		}
	}
	return nil
}

// Procs implements Manager.
func (m *manager) Procs() ([]int, error) {
	seen := map[int]bool{}
	for _, h := range m.hs {
		pids, err := m.procsIn(m.leaf(h))
		if err != nil {
			return nil, err
		}
		for _, p := range pids {
			seen[p] = true
		}
	}
	out := make([]int, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Ints(out)
	return out, nil
}

// procsIn lists the processes of dir and its descendants; a missing dir
// holds none.
func (m *manager) procsIn(dir string) ([]int, error) {
	var out []int
	err := walkCgroups(dir, func(d string) error {
		s, err := readString(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			if gone(err) {
				return nil // removed under us, or a fake without the file
			}
			return fmt.Errorf("read processes of %s: %w", d, err)
		}
		pids, err := parsePids(s)
		if err != nil {
			return fmt.Errorf("%s/cgroup.procs: %w", d, err)
		}
		out = append(out, pids...)
		return nil
	})
	return out, err
}

// walkCgroups calls fn for dir and every cgroup below it, parents first. A
// directory that vanishes meanwhile is skipped. A directory's link count
// is 2 plus its subdirectories (kernfs, which cgroupfs is, and the fake
// trees' tmpfs and ext4), so a leaf with no child cgroups, the common
// case, costs one stat instead of a listing; any other count (1 on
// filesystems that do not count) lists.
func walkCgroups(dir string, fn func(string) error) error {
	if leaf, err := noSubdirs(dir); err != nil {
		if gone(err) {
			return nil
		}
		return fmt.Errorf("list cgroup %s: %w", dir, err)
	} else if leaf {
		return fn(dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if gone(err) {
			return nil
		}
		return fmt.Errorf("list cgroup %s: %w", dir, err)
	}
	if err := fn(dir); err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := walkCgroups(filepath.Join(dir, e.Name()), fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// noSubdirs reports whether dir's link count says it has no
// subdirectories (walkCgroups).
func noSubdirs(dir string) (bool, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return false, &fs.PathError{Op: "stat", Path: dir, Err: err}
	}
	return st.Nlink == 2, nil
}

// Destroy implements Manager.
func (m *manager) Destroy() error {
	var errs []error
	elems := strings.Split(m.rel, string(filepath.Separator))
	for _, h := range m.hs {
		if err := m.removeTree(m.leaf(h)); err != nil {
			errs = append(errs, err)
			continue
		}
		// Shared parents go when empty; a sibling guest's dir keeps them
		// (EBUSY on cgroupfs, ENOTEMPTY elsewhere), which is fine.
		for i := len(elems) - 1; i >= 1; i-- {
			dir := filepath.Join(h.root, filepath.Join(elems[:i]...))
			err := m.dirs.Rmdir(dir)
			if err == nil || isNotExist(err) {
				continue
			}
			if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
				break
			}
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
			break
		}
	}
	return errors.Join(errs...)
}

// removeTree removes dir and the cgroups the guest made below it, children
// first. Missing is success. The rmdir comes first: a guest's cgroup
// rarely has children (a systemd guest's does), and the kernel refuses a
// cgroup with children or processes (EBUSY; ENOTEMPTY on a fake tree), so
// the listing is needed only then.
func (m *manager) removeTree(dir string) error {
	err := m.dirs.Rmdir(dir)
	if err == nil || gone(err) {
		return nil
	}
	if !errors.Is(err, syscall.EBUSY) && !errors.Is(err, syscall.ENOTEMPTY) {
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	ents, lerr := os.ReadDir(dir)
	if lerr != nil {
		if gone(lerr) {
			return nil
		}
		return fmt.Errorf("list cgroup %s: %w", dir, lerr)
	}
	children := false
	for _, e := range ents {
		if e.IsDir() {
			children = true
			if err := m.removeTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if children {
		err = m.dirs.Rmdir(dir)
	}
	if err != nil && !gone(err) {
		if errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("remove cgroup %s: %w: %w", dir, ErrBusy, err)
		}
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	return nil
}

// delegated are the files a delegatee must own to create cgroups and move
// processes (kernel Documentation/admin-guide/cgroup-v2.rst, "Delegation";
// for v1 what LXC chowns). Missing ones are skipped.
var (
	delegatedV2 = []string{"cgroup.procs", "cgroup.threads", "cgroup.subtree_control"}
	delegatedV1 = []string{"tasks", "cgroup.procs", "cgroup.clone_children", "notify_on_release"}
)

// Delegate implements Manager.
func (m *manager) Delegate(uid, gid int) error {
	for _, h := range m.hs {
		dir := m.leaf(h)
		files := delegatedV1
		if h.v2 {
			files = delegatedV2
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return fmt.Errorf("delegate cgroup %s: %w", dir, err)
		}
		for _, f := range files {
			p := filepath.Join(dir, f)
			if err := os.Chown(p, uid, gid); err != nil && !isNotExist(err) {
				return fmt.Errorf("delegate cgroup %s: %w", dir, err)
			}
		}
	}
	return nil
}

// Paths implements Manager.
func (m *manager) Paths() map[string]string {
	out := map[string]string{}
	for _, h := range m.hs {
		if h.v2 {
			out["unified"] = m.leaf(h)
			continue
		}
		for _, c := range h.controllers {
			out[c] = m.leaf(h)
		}
	}
	return out
}

// find returns the v1 hierarchy of controller c, or the v2 tree.
func (m *manager) find(c string) (hierarchy, bool) {
	for _, h := range m.hs {
		if (m.mode == V2 && h.v2) || (!h.v2 && h.has(c)) {
			return h, true
		}
	}
	return hierarchy{}, false
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
