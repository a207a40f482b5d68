package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// sources holds the template files; see the package doc for the layout.
//
//go:embed busybox debian debian-dhcp
var sources embed.FS

// fileMode is the mode a template file is installed with.
func fileMode(rel string, data []byte) os.FileMode {
	switch {
	case bytes.HasPrefix(data, []byte("#!")):
		return 0o755
	case rel == "etc/shadow" || rel == "etc/gshadow":
		return 0o600
	default:
		return 0o644
	}
}

// installFiles copies the embedded tree sub (a template's directory) into
// dir, creating parent directories as needed and replacing existing files.
func installFiles(sub, dir string) error {
	return fs.WalkDir(sources, sub, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := sources.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read template file %s: %w", p, err)
		}
		rel, _ := filepath.Rel(sub, p) // p is under sub: WalkDir started there
		rel = filepath.ToSlash(rel)
		return writeFile(filepath.Join(dir, filepath.FromSlash(rel)), data, fileMode(rel, data))
	})
}

// writeFile writes data to name with mode, replacing a file (or symlink)
// that is there, and creating the parent directories.
func writeFile(name string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(name), err)
	}
	// Remove first: the path may be a symlink (an applet link of an earlier
	// build), and writing through it would clobber its target.
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replace %s: %w", name, err)
	}
	if err := os.WriteFile(name, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	// WriteFile's mode is filtered by the umask; the template's is not.
	if err := os.Chmod(name, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	return nil
}
