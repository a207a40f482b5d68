package templates

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"vmlite/internal/inroot"
)

// tree is a root filesystem being written. --force builds over a directory
// that may be a guest's root, whose links the guest made: /etc -> /etc
// must not make the template write the host's /etc/passwd. So every path
// is resolved inside the root (filepath-securejoin from a handle on it),
// and only the last component is acted on, by its parent's fd, never
// followed (a link there is replaced, as an earlier build's applet links
// are).
type tree struct {
	dir  string
	root *os.File
}

func openTree(dir string) (*tree, error) {
	f, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return &tree{dir: dir, root: f}, nil
}

func (t *tree) Close() { t.root.Close() }

// name is rel's path on the host, for messages.
func (t *tree) name(rel string) string { return filepath.Join(t.dir, filepath.Clean("/"+rel)) }

// parent resolves rel's directory inside the root (made when missing) and
// returns an fd on it and rel's last component.
func (t *tree) parent(rel string) (*os.File, string, error) {
	clean := filepath.Clean("/" + rel)
	if clean == "/" {
		return nil, "", fmt.Errorf("%s: the tree's root itself", t.dir)
	}
	h, err := securejoin.MkdirAllHandle(t.root, filepath.Dir(clean), 0o755)
	if err != nil {
		return nil, "", fmt.Errorf("create %s: %w", t.name(filepath.Dir(clean)), err)
	}
	d, err := securejoin.Reopen(h, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	h.Close()
	if err != nil {
		return nil, "", err
	}
	return d, filepath.Base(clean), nil
}

// mkdirAll makes directory rel (and its parents) with exactly mode.
func (t *tree) mkdirAll(rel string, mode os.FileMode) error {
	h, err := securejoin.MkdirAllHandle(t.root, filepath.Clean("/"+rel), 0o755)
	if err != nil {
		return fmt.Errorf("create %s: %w", t.name(rel), err)
	}
	defer h.Close()
	d, err := securejoin.Reopen(h, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open %s: %w", t.name(rel), err)
	}
	defer d.Close()
	if err := d.Chmod(mode); err != nil { // not filtered by the umask
		return fmt.Errorf("chmod %s: %w", t.name(rel), err)
	}
	return nil
}

// remove removes rel (a file, a link, an empty directory); absent is fine.
func (t *tree) remove(rel string) error {
	d, base, err := t.parent(rel)
	if err != nil {
		return err
	}
	defer d.Close()
	return removeAt(d, base, t.name(rel))
}

func removeAt(d *os.File, base, name string) error {
	err := unix.Unlinkat(int(d.Fd()), base, 0)
	if errors.Is(err, unix.EISDIR) {
		err = unix.Unlinkat(int(d.Fd()), base, unix.AT_REMOVEDIR)
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("replace %s: %w", name, err)
	}
	return nil
}

// writeFile writes data to rel with exactly mode, replacing what is there.
func (t *tree) writeFile(rel string, data []byte, mode os.FileMode) error {
	d, base, err := t.parent(rel)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := removeAt(d, base, t.name(rel)); err != nil {
		return err
	}
	fd, err := unix.Openat(int(d.Fd()), base, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", t.name(rel), err)
	}
	f := os.NewFile(uintptr(fd), t.name(rel))
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", t.name(rel), err)
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", t.name(rel), err)
	}
	return f.Close()
}

// symlink makes rel a symlink to target, replacing what is there.
func (t *tree) symlink(target, rel string) error {
	d, base, err := t.parent(rel)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := removeAt(d, base, t.name(rel)); err != nil {
		return err
	}
	if err := unix.Symlinkat(target, int(d.Fd()), base); err != nil {
		return fmt.Errorf("link %s: %w", t.name(rel), err)
	}
	return nil
}

// readFile reads regular file rel, resolved inside the root.
func (t *tree) readFile(rel string) ([]byte, error) {
	f, err := inroot.OpenFileAt(int(t.root.Fd()), t.dir, rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// rewrite replaces the content of existing regular file rel in place: it
// keeps its owner and mode.
func (t *tree) rewrite(rel string, data []byte) error {
	d, base, err := t.parent(rel)
	if err != nil {
		return err
	}
	defer d.Close()
	fd, err := unix.Openat(int(d.Fd()), base, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", t.name(rel), err)
	}
	f := os.NewFile(uintptr(fd), t.name(rel))
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("write %s: %w", t.name(rel), inroot.ErrNotRegular)
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("write %s: %w", t.name(rel), err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", t.name(rel), err)
	}
	return f.Close()
}

// exists reports whether rel resolves inside the root.
func (t *tree) exists(rel string) bool {
	h, err := securejoin.OpenatInRoot(t.root, filepath.Clean("/"+rel))
	if err != nil {
		return false
	}
	h.Close()
	return true
}
