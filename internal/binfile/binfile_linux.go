// Package binfile names the running vmlite build and writes the small
// binaries a build embeds (vmlite-supervisor, vmlite-init, vmlite-procfs)
// out to disk, once per build, for the processes that run them: the CLI
// (the supervisor) and the supervisor (the other two).
package binfile

import (
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"vmlite/internal/exepages"
)

// ID names the running binary (IDOf). It is looked up once per process:
// the executable cannot change under a running process, and a supervisor
// asks on every guest's boot. The client side names the shared
// supervisors' sockets after the core's.
var ID = sync.OnceValues(func() (string, error) { return IDOf("/proc/self/exe") })

// IDOf names the vmlite binary at path (device, inode, size, mtime): the
// embedded binaries' copies on disk are named after the build that wrote
// them, the pools' sockets after the core that started them, so that a
// start never hands a plan to a supervisor of another build.
func IDOf(path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", fmt.Errorf("identify vmlite binary: %w", err)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d:%d:%d:%d.%d", st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec)
	return fmt.Sprintf("%08x", uint32(h.Sum64())), nil
}

// mu serialises writing out binaries within this process.
var mu sync.Mutex

// WriteOut writes an embedded binary of size bytes (write copies it) once
// per build of the running binary as dir/PREFIXID and returns its path.
// Older builds' copies go (a process running one keeps its inode); a
// process of such a build that finds its copy gone writes it again.
func WriteOut(dir, prefix string, size int64, write func(io.Writer) error) (string, error) {
	id, err := ID()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, prefix+id)
	present := func() bool {
		fi, err := os.Stat(path)
		return err == nil && fi.Mode().IsRegular() && fi.Size() == size
	}
	if present() {
		return path, nil
	}
	mu.Lock()
	defer mu.Unlock()
	// One writer at a time on the host too: the first starts into a new
	// state root (hundreds at once with dedicated supervisors) would each
	// write and sync the same megabytes.
	lock, err := os.OpenFile(filepath.Join(dir, ".write.lock"), os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return path, err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return path, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	if present() {
		return path, nil
	}
	if err := writeBinary(path, write); err != nil {
		return path, err
	}
	// Reading the embedded copy mapped its pages (megabytes of this
	// binary's read-only data, which nothing reads again) into this
	// process: a supervisor or `vmlite serve` would keep them until the
	// next drop, or for ever. Once per build: the code this process still
	// runs faults back in.
	if err := exepages.Drop(); err != nil {
		return path, fmt.Errorf("give back the pages of the embedded copy: %w", err)
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
