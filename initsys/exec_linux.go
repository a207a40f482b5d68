package initsys

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"vmlite/internal/caps"
	"vmlite/internal/idfile"
	"vmlite/plan"
)

// lookupInit checks that the guest's init exists and is executable in the
// guest's root, so that a missing init is a start error naming <init>
// rather than an exec failure after the fact.
func (g *guest) lookupInit() (string, error) {
	path := g.p.Init.Path
	fi, err := os.Stat(path)
	if err != nil {
		where := "the guest's root filesystem " + g.p.Rootfs.Path
		if g.shared() {
			where = "the host's root filesystem (the guest has no root <filesystem>)"
		}
		if errors.Is(err, os.ErrNotExist) {
			return "", userStepErr("find init", g.p.Init.XMLPath, fmt.Errorf("%s: not found in %s", path, where))
		}
		return "", userStepErr("find init", g.p.Init.XMLPath, err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", userStepErr("find init", g.p.Init.XMLPath, fmt.Errorf("%s: not an executable file (mode %v)", path, fi.Mode()))
	}
	return path, nil
}

// switchUser applies <inituser>/<initgroup>, resolved in the guest's
// /etc/passwd and /etc/group (names) or numeric ("+N" or "N").
func (g *guest) switchUser() error {
	if g.p.Init.User == "" && g.p.Init.Group == "" {
		return nil
	}
	uid, gid := 0, 0
	if g.p.Init.User != "" {
		u, pgid, err := lookupID("/etc/passwd", g.p.Init.User)
		if err != nil {
			return userStepErr("set init user", "/domain/os/inituser", err)
		}
		uid, gid = u, pgid
	}
	if g.p.Init.Group != "" {
		gg, _, err := lookupID("/etc/group", g.p.Init.Group)
		if err != nil {
			return userStepErr("set init group", "/domain/os/initgroup", err)
		}
		gid = gg
	}
	// The console belongs to the init user, so that its shell gets job control
	// (libvirt does the same).
	_ = unix.Fchown(0, uid, gid)
	if err := caps.SetIDs(uid, gid); err != nil {
		return stepErr("set init user", "/domain/os/inituser", err)
	}
	return nil
}

// lookupID resolves a user or group in the guest's file: the id and, for
// passwd, the primary gid.
func lookupID(file, name string) (int, int, error) {
	e, err := idfile.Lookup(file, name)
	if errors.Is(err, idfile.ErrNoEntry) {
		return 0, 0, fmt.Errorf("%q: no such entry in the guest's %s", name, file)
	}
	return e.ID, e.GID, err
}

// closeExtraFDs marks every fd above stderr close-on-exec: the console
// slaves, the sync socket (its closing tells the supervisor exec succeeded)
// and anything inherited by accident. Leaking a host fd into the guest is an
// escape (CVE-2024-21626).
func (g *guest) closeExtraFDs() error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return stepErr("close inherited fds", "", &os.SyscallError{Syscall: "close_range", Err: err})
	}
	return nil
}

// exec replaces __init with the guest's init.
func (g *guest) exec(argv0 string) error {
	dir := g.p.Init.Dir
	if dir == "" {
		dir = "/"
	}
	if err := unix.Chdir(dir); err != nil {
		return userStepErr("enter init directory", "/domain/os/initdir", &os.PathError{Op: "chdir", Path: dir, Err: err})
	}
	argv := append([]string{argv0}, g.p.Init.Args...)
	err := unix.Exec(argv0, argv, g.p.Init.Env)
	user := errors.Is(err, unix.ENOEXEC) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOENT)
	return &plan.StepFailure{Step: "exec init", XMLPath: g.p.Init.XMLPath, Err: &os.PathError{Op: "execve", Path: argv0, Err: err}, User: user}
}
