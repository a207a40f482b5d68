package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"vmlite/internal/sysfile"
)

// dirOps creates and removes cgroup directories. The kernel fills a new
// cgroup directory with its control files and removes them with it; tests
// fake that on a plain tree.
type dirOps interface {
	Mkdir(path string) error
	Rmdir(path string) error
}

// readString returns a control file's content without the trailing newline.
func readString(path string) (string, error) {
	b, err := sysfile.Read(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\n"), nil
}

// readUint reads a file holding one number; "max" and "-1" read as Unlimited.
func readUint(path string) (uint64, error) {
	s, err := readString(path)
	if err != nil {
		return 0, err
	}
	if s == "max" || s == "-1" {
		return Unlimited, nil
	}
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return v, nil
}

// writeFile writes one value to an existing control file in one write(2),
// as cgroupfs requires. It never creates files: a missing file means the
// kernel lacks the knob, and the error says so (errors.Is fs.ErrNotExist).
func writeFile(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(value)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, cerr)
	}
	return nil
}

// within reports whether path lies in the vmlite tree of hierarchy root:
// the guard behind the rule that vmlite writes nowhere else.
func within(root, path string) bool {
	top := filepath.Join(root, TopDir)
	return path == top || strings.HasPrefix(path, top+string(filepath.Separator))
}
