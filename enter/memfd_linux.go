package enter

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"vmlite/internal/initbin"
)

// sealedSelf copies the second stage into a sealed memfd, the file it
// runs from: inside the guest its /proc/PID/exe is that copy, which nobody
// can write, not the host's binary (runc's CVE-2019-5736). The second
// stage is the embedded vmlite-init where `make build` embedded one (a
// quarter of vmlite's size to copy and start), else this binary.
func sealedSelf() (*os.File, error) {
	fd, err := unix.MemfdCreate("vmlite-exec", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL { // before Linux 6.3, which has no MFD_EXEC
		fd, err = unix.MemfdCreate("vmlite-exec", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	mem := os.NewFile(uintptr(fd), "vmlite-exec")
	if err := fill(mem); err != nil {
		mem.Close()
		return nil, err
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		mem.Close()
		return nil, os.NewSyscallError("fcntl(F_ADD_SEALS)", err)
	}
	return mem, nil
}

// fill writes the second stage's binary into mem.
func fill(mem *os.File) error {
	if initbin.Size() > 0 {
		if err := initbin.WriteTo(mem); err != nil {
			return fmt.Errorf("copy the second stage: %w", err)
		}
		return nil
	}
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return fmt.Errorf("open own binary: %w", err)
	}
	defer self.Close()
	// sendfile: the kernel copies (io.Copy's copy_file_range is EXDEV
	// across filesystems and falls back to a slow user-space loop).
	for {
		n, err := unix.Sendfile(int(mem.Fd()), int(self.Fd()), nil, 1<<30)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("copy own binary: %w", os.NewSyscallError("sendfile", err))
		}
		if n == 0 {
			return nil
		}
	}
}
