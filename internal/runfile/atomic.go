package runfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path so that readers see the old or the new
// content, never a mix: temp file in the same directory, fsync, rename, fsync
// of the directory (the rename is durable only then).
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	return writeAtomic(path, data, mode, true)
}

// WriteRuntimeFile replaces path, a file in a guest's runtime directory,
// as atomically as WriteFileAtomic but without its two fsyncs. Runtime
// files describe processes that do not survive a host crash, so there is
// nothing to make durable (a stale or empty file after a crash is cleaned
// up like any other stale state); the rename alone keeps readers from
// seeing a partial file. The fsyncs sat on the start path, and each can
// take long when other work loads the disk (bench/README.md).
func WriteRuntimeFile(path string, data []byte, mode os.FileMode) error {
	return writeAtomic(path, data, mode, false)
}

func writeAtomic(path string, data []byte, mode os.FileMode, durable bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if !durable {
		return nil
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every filesystem supports fsync on directories
		d.Close()
	}
	return nil
}

// Sync makes a file written by WriteRuntimeFile as durable as
// WriteFileAtomic would have: fsync of the file, then of its directory.
// A reader may see the file before; a crash before Sync ends may lose it.
func Sync(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // best effort, as in writeAtomic
		d.Close()
	}
	return nil
}
