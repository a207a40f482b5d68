package templates

import (
	"bytes"
	"embed"
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
func installFiles(sub string, t *tree) error {
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
		return t.writeFile(rel, data, fileMode(rel, data))
	})
}
