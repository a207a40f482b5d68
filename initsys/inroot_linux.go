package initsys

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// Before pivot_root, __init works in a mount namespace cloned from the
// host's, and every path of the guest's root is the guest's to make: a
// symlink /mnt -> /etc on its disk must not lead a mkdir or a mount into
// the host's /etc. So guest paths are resolved inside the root, as the
// guest will see them after pivot_root (absolute links and ".." stay
// inside): mount points are found, and made, from a handle on the root
// (filepath-securejoin: openat2 RESOLVE_IN_ROOT where the kernel has it),
// and mounted on through their handle (/proc/self/fd/N), never by a path
// walked again. Paths inside filesystems __init has just mounted itself
// (proc, sysfs, the /dev tmpfs) go through inRoot's resolution too.

// openRoot takes the handle every guest path is resolved from.
func (g *guest) openRoot() error {
	f, err := os.OpenFile(g.root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if g.rootFile != nil {
		g.rootFile.Close()
	}
	g.rootFile = f
	return nil
}

// mountPoint resolves guest path p inside the root and returns a handle on
// it, creating what is missing: directories (mode), or with file an empty
// regular file as the last component (a mount point for a file or node).
// An existing last component is used whatever it is, as mount would.
func (g *guest) mountPoint(p string, file bool, mode os.FileMode) (*mountTarget, error) {
	clean := filepath.Clean("/" + p)
	if g.rootFile == nil {
		if err := g.openRoot(); err != nil {
			return nil, err
		}
	}
	if !file {
		h, err := securejoin.MkdirAllHandle(g.rootFile, clean, mode)
		if err != nil {
			return nil, fmt.Errorf("create mount point %s: %w", clean, err)
		}
		return &mountTarget{h, clean}, nil
	}
	if h, err := securejoin.OpenatInRoot(g.rootFile, clean); err == nil {
		return &mountTarget{h, clean}, nil
	}
	parent, err := securejoin.MkdirAllHandle(g.rootFile, filepath.Dir(clean), 0o755)
	if err != nil {
		return nil, fmt.Errorf("create mount point %s: %w", clean, err)
	}
	defer parent.Close()
	// O_EXCL|O_NOFOLLOW: a new regular file, never through a dangling link.
	fd, err := unix.Openat(int(parent.Fd()), filepath.Base(clean), unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("create mount point %s: %w", clean, &os.PathError{Op: "openat", Path: clean, Err: err})
	}
	if err == nil {
		unix.Close(fd)
	}
	h, err := securejoin.OpenatInRoot(g.rootFile, clean)
	if err != nil {
		return nil, fmt.Errorf("create mount point %s: %w", clean, err)
	}
	return &mountTarget{h, clean}, nil
}

// mountTarget is a resolved mount point: mount on Path(), name it by Guest.
type mountTarget struct {
	f     *os.File
	Guest string
}

// Path is the handle's magic link, which mount(2) and move_mount(2) follow
// to exactly the resolved directory or file.
func (t *mountTarget) Path() string { return fmt.Sprintf("/proc/self/fd/%d", t.f.Fd()) }

// Close releases the handle.
func (t *mountTarget) Close() { t.f.Close() }

// inRoot returns the host path of guest path p, every symlink resolved
// inside the root. For paths below filesystems __init mounted itself, and
// for reads; mount points come from mountPoint. Only __init touches the
// root while it sets up (the guest runs nothing yet), so nothing changes
// between this resolution and the use of its result.
func (g *guest) inRoot(p string) string {
	clean := filepath.Clean("/" + p)
	if g.root == "/" {
		return clean
	}
	r, err := securejoin.SecureJoin(g.root, clean)
	if err != nil {
		// Only a loop or a lookup error: a path that resolves nowhere,
		// which the caller's own lookup then reports.
		return filepath.Join(g.root, "nonexistent-"+filepath.Base(clean))
	}
	return r
}
