package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// coldCopy makes a guest's full copy of base at dst with cp -a in a
// memory cgroup of its own, then has that cgroup's memory reclaimed and
// removes it: the copy's page cache, and its inodes and dentries (the
// kernel's memcg-aware shrinkers free those with the cgroup's pages). A
// copy cp -a leaves warm has every one of its 8000 inodes and dentries
// cached and charged to the harness, so the guest booted on it would not
// be charged the kernel memory its own files cost the host, while an
// image's guest is charged its overlayfs inodes; cold, each copy's guest
// is charged what it reads, as on a host where 200 copies do not all fit
// in the cache. What could not be reclaimed is returned, in KiB.
func coldCopy(base, dst string) (int64, error) {
	cg, reclaim, usage, err := scratchMemcg()
	if err != nil {
		return 0, err
	}
	defer os.Remove(cg)
	c := exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec cp -a "$2" "$3"`, "sh", cg, base, dst)
	if _, err := runCmd(c); err != nil {
		return 0, err
	}
	unix.Sync()
	if err := reclaim(); err != nil {
		return 0, err
	}
	left, err := usage()
	return left / 1024, err
}

var scratchSeq atomic.Int64

// scratchMemcg makes an empty memory cgroup for one copy, with the way to
// reclaim all of its memory (v1 memory.force_empty, v2 memory.reclaim) and
// to read its usage in bytes.
func scratchMemcg() (dir string, reclaim func() error, usage func() (int64, error), err error) {
	name := fmt.Sprintf("vmbench-copy-%d-%d", os.Getpid(), scratchSeq.Add(1))
	read := func(f string) func() (int64, error) {
		return func() (int64, error) {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				return 0, err
			}
			return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		}
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.force_empty"); err == nil {
		dir = filepath.Join("/sys/fs/cgroup/memory", name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", nil, nil, err
		}
		return dir, func() error {
			return os.WriteFile(filepath.Join(dir, "memory.force_empty"), []byte("0"), 0o644)
		}, read("memory.usage_in_bytes"), nil
	}
	dir = filepath.Join("/sys/fs/cgroup", name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", nil, nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "memory.reclaim")); err != nil {
		os.Remove(dir)
		return "", nil, nil, fmt.Errorf("no memory controller to reclaim a copy's cache: %w", err)
	}
	return dir, func() error {
		// EAGAIN: less than asked could be reclaimed, which is all of it.
		err := os.WriteFile(filepath.Join(dir, "memory.reclaim"), []byte("64G"), 0o644)
		if errors.Is(err, unix.EAGAIN) {
			return nil
		}
		return err
	}, read("memory.current"), nil
}
