package initsys

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// procFSFiles are the files the host-wide /proc server (package procfs,
// procfs.Files: initsys does not link the server) serves, as paths in its
// mount and in the guest alike.
var procFSFiles = []string{
	"proc/meminfo", "proc/cpuinfo", "proc/stat", "proc/uptime", "proc/loadavg",
	"proc/swaps", "proc/diskstats", "sys/devices/system/cpu/online",
}

// bindProcFS binds the /proc server's files over the guest's own, read-only,
// once /proc and /sys are mounted and before the guest's init runs: the
// supervisor's clones of them (procFSTrees: attached without a request to
// the server), or, for a file without one, a bind by path. The server
// runs (its supervisor started it before the clone) and its mount is in
// this mount namespace, copied from the supervisor's.
func (g *guest) bindProcFS() error {
	if g.p.Paths.ProcFS == "" {
		return nil
	}
	// The guest's own inodes (procfs.Layout.GuestFiles).
	src := filepath.Join(g.p.Paths.ProcFS, "mnt", "guests", g.p.Name)
	for _, f := range procFSFiles {
		target := g.inRoot("/" + f)
		if _, err := os.Stat(target); err != nil {
			if tree, ok := g.procFSTrees[f]; ok {
				unix.Close(tree)
			}
			continue // absent on this kernel (no cpu/online without hotplug)
		}
		if tree, ok := g.procFSTrees[f]; ok {
			err := unix.MoveMount(tree, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH)
			unix.Close(tree)
			if err != nil {
				return stepErr("attach /"+f+" from the /proc server", "/domain/metadata/config/procfs", &os.PathError{Op: "move_mount", Path: target, Err: err})
			}
			continue
		}
		from := filepath.Join(src, f)
		if err := unix.Mount(from, target, "", unix.MS_BIND, ""); err != nil {
			return stepErr("bind /"+f+" from the /proc server", "/domain/metadata/config/procfs", &os.PathError{Op: "mount", Path: from, Err: err})
		}
		if err := remountReadOnly(target); err != nil {
			return stepErr("bind /"+f+" from the /proc server", "/domain/metadata/config/procfs", err)
		}
	}
	return nil
}
