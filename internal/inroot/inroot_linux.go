package inroot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// resolveFlags keep a lookup inside the root and away from magic links.
const resolveFlags = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// OpenFile opens guest path p (absolute or not, relative to root either
// way) for reading: a regular file inside root, or an error.
func OpenFile(root, p string) (*os.File, error) {
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(dir)
	return OpenFileAt(dir, root, p)
}

// OpenFileAt is OpenFile with root already open (rootName names it in errors).
func OpenFileAt(root int, rootName, p string) (*os.File, error) {
	name := filepath.Join(rootName, p)
	fd, err := unix.Openat2(root, strings.TrimLeft(filepath.Clean("/"+p), "/"), &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: resolveFlags,
	})
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%v)", name, ErrNotRegular, fi.Mode().Type())
	}
	return f, nil
}

// Resolved is the guest path f was found at, from the kernel's name for it.
func Resolved(root string, f *os.File) (string, error) {
	real, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		return "", err
	}
	root = filepath.Clean(root)
	if root == "/" {
		return real, nil
	}
	rel, ok := strings.CutPrefix(real, root+"/")
	if !ok {
		return "", fmt.Errorf("%s is outside %s", real, root)
	}
	return "/" + rel, nil
}
