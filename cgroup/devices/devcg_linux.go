package devices

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ForNode returns the rule allowing the device node at path (read, write,
// mknod): a <hostdev> passed to the guest.
func ForNode(path string) (Rule, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Rule{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	r := Rule{Major: int64(unix.Major(uint64(st.Rdev))), Minor: int64(unix.Minor(uint64(st.Rdev))), Access: "rwm"}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		r.Type = 'c'
	case unix.S_IFBLK:
		r.Type = 'b'
	default:
		return Rule{}, fmt.Errorf("%s is not a device node", path)
	}
	return r, nil
}

// ApplyV1 makes the v1 devices cgroup dir allow exactly rules: it denies
// everything first, then allows each rule. Call it before a process runs
// in dir: a child cgroup the guest makes later inherits the list and can
// never widen it (the kernel checks every allow against the parent).
func ApplyV1(dir string, rules []Rule) error {
	if err := write(dir, "devices.deny", DenyAll); err != nil {
		return err
	}
	for _, r := range rules {
		if err := r.Validate(); err != nil {
			return err
		}
		if err := write(dir, "devices.allow", r); err != nil {
			return err
		}
	}
	return nil
}

func write(dir, file string, r Rule) error {
	p := filepath.Join(dir, file)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("device allow-list: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(r.String()); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("device allow-list: %s %q refused: the parent cgroup does not allow it: %w", file, r, err)
		}
		return fmt.Errorf("device allow-list: write %q to %s: %w", r, p, err)
	}
	return nil
}

// AllowV1 adds one rule to the v1 devices cgroup dir's allow-list (a
// device attached to a running guest).
func AllowV1(dir string, r Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return write(dir, "devices.allow", r)
}

// DenyV1 takes r's access away again (the device is detached); the
// kernel removes it from the guest's child cgroups too.
func DenyV1(dir string, r Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return write(dir, "devices.deny", r)
}
