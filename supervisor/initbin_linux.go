package supervisor

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"vmlite/internal/initbin"
	"vmlite/supervisor/ctl"
)

// selfExe is this binary, whose __init role every build has.
const selfExe = "/proc/self/exe"

// initBinMu serialises writing out the embedded binaries within this process.
var initBinMu sync.Mutex

// initExecutable returns what a guest's __init is cloned from: the small
// embedded vmlite-init (cmd/vmlite-init: cheaper to start than `vmlite
// __init`, bench/README.md), written once per vmlite build into
// InitBinDir (the runtime tree for an older build's plan), or this binary
// itself when the build embeds none or the file cannot be written.
func (s *Supervisor) initExecutable() string {
	size := initbin.Size()
	dir := s.p.Paths.InitBinDir
	if dir == "" {
		dir = s.p.Paths.RunRoot
	}
	if size == 0 || dir == "" {
		return selfExe
	}
	// Traversable by a mapped guest's root, who execs it.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.log.Printf("create %s: %v: cloning __init from vmlite itself", dir, err)
		return selfExe
	}
	path, err := writeOutBinary(dir, "init-", size, initbin.WriteTo)
	if err != nil {
		s.log.Printf("write %s: %v: cloning __init from vmlite itself", path, err)
		return selfExe
	}
	return path
}

// writeOutBinary writes an embedded binary of size bytes (write copies it)
// once per vmlite build as dir/PREFIXID and returns its path. Older
// builds' copies go; a supervisor of such a build that finds its copy
// gone writes it again (or falls back to itself).
func writeOutBinary(dir, prefix string, size int64, write func(io.Writer) error) (string, error) {
	id, err := BinaryID()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, prefix+id)
	initBinMu.Lock()
	defer initBinMu.Unlock()
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == size {
		return path, nil
	}
	if err := writeBinary(path, write); err != nil {
		return path, err
	}
	old, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	for _, o := range old {
		if o != path && !strings.Contains(filepath.Base(o), ".tmp") {
			_ = os.Remove(o)
		}
	}
	return path, nil
}

// writeBinary writes a binary to path atomically: executable by all
// (a mapped guest's __init execs vmlite-init as the guest's root, an
// unprivileged host uid), writable by root.
func writeBinary(path string, write func(io.Writer) error) error {
	tmp := fmt.Sprintf("%s.tmp%d", path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o711)
	if err != nil {
		return err
	}
	err = write(f)
	if err == nil {
		// Written back before anyone maps it: a mapped page still dirty
		// in the page cache counts as private dirty memory of each
		// process running it, until the kernel's writeback.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// BinaryID names the running vmlite binary (device, inode, size, mtime).
// It is looked up once per process: the executable cannot change under a
// running process, and a supervisor asks on every guest's boot. The
// client side names the shared supervisors' sockets after it.
var BinaryID = sync.OnceValues(func() (string, error) { return ctl.BinaryIDOf("/proc/self/exe") })
