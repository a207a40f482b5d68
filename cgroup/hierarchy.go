package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// hierarchy is one mounted cgroup tree.
type hierarchy struct {
	// root is the mount point (the host's root cgroup of this hierarchy).
	root string
	// controllers are the v1 controllers bound to it ("cpu", "cpuacct"),
	// "name=systemd" for the named hierarchy, or nil for a cgroup2 tree.
	controllers []string
	// v2 marks a cgroup2 tree: the whole host (V2) or the hybrid unified mount.
	v2 bool
}

// has reports whether the v1 controller c is bound to h.
func (h hierarchy) has(c string) bool {
	for _, x := range h.controllers {
		if x == c {
			return true
		}
	}
	return false
}

// key is the hierarchy's name in Paths and messages.
func (h hierarchy) key() string {
	if h.v2 {
		return "unified"
	}
	return strings.Join(h.controllers, ",")
}

// discover finds the hierarchies under fsRoot. On V2, fsRoot itself is the
// one tree. On V1 every directory of fsRoot that holds a cgroup.procs is a
// hierarchy, named as systemd and every distribution name it: by its
// controllers ("memory", "cpu,cpuacct"), "systemd" for name=systemd, and a
// directory with cgroup.controllers is the hybrid cgroup2 mount. Symlinks
// (cpu -> cpu,cpuacct) are aliases of a co-mounted hierarchy and skipped.
// Reading names instead of /proc/self/mountinfo keeps New usable on a faked
// tree; Detect checks the real mounts.
func discover(fsRoot string, mode Mode) ([]hierarchy, error) {
	switch mode {
	case V2:
		if !exists(filepath.Join(fsRoot, "cgroup.controllers")) {
			return nil, fmt.Errorf("%s is not a cgroup2 mount (no cgroup.controllers)", fsRoot)
		}
		return []hierarchy{{root: fsRoot, v2: true}}, nil
	case V1:
	default:
		return nil, fmt.Errorf("cgroup mode %d unknown", int(mode))
	}
	ents, err := os.ReadDir(fsRoot)
	if err != nil {
		return nil, fmt.Errorf("list cgroup hierarchies: %w", err)
	}
	var hs []hierarchy
	for _, e := range ents {
		if e.Type()&fs.ModeSymlink != 0 || !e.IsDir() {
			continue
		}
		dir := filepath.Join(fsRoot, e.Name())
		switch {
		case exists(filepath.Join(dir, "cgroup.controllers")):
			hs = append(hs, hierarchy{root: dir, v2: true})
		case exists(filepath.Join(dir, "cgroup.procs")):
			hs = append(hs, hierarchy{root: dir, controllers: v1Controllers(e.Name())})
		}
	}
	if len(hs) == 0 {
		return nil, fmt.Errorf("no cgroup hierarchy found under %s", fsRoot)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].root < hs[j].root })
	return hs, nil
}

// v1Controllers maps a hierarchy's directory name to what is bound to it.
func v1Controllers(dir string) []string {
	if dir == "systemd" || dir == "elogind" {
		return []string{"name=" + dir}
	}
	return strings.Split(dir, ",")
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// gone reports whether err means a cgroup directory disappeared under us:
// ENOENT, or ENODEV from a file still open, or looked up, in a removed one.
func gone(err error) bool { return isNotExist(err) || errors.Is(err, syscall.ENODEV) }
