package launch

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"vmlite/internal/inroot"
	"vmlite/plan"
)

// hostProbe is the real machine.
type hostProbe struct{}

// NewHostProbe returns the Probe for the running host.
func NewHostProbe() Probe { return hostProbe{} }

func (hostProbe) IsDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func (hostProbe) IsFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func (hostProbe) Perm(p string) (fs.FileMode, bool) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, false
	}
	return fi.Mode().Perm(), true
}

// InitKind resolves init inside rootfs, as the guest will (an absolute
// link target, and "..", stay inside the guest's root: openat2's
// RESOLVE_IN_ROOT), and names the init system by where that leads and
// what it holds. The rootfs is the guest's to change: a FIFO or device
// there is never read (O_NONBLOCK, regular files only), and nothing of the
// host outside rootfs is reached.
func (hostProbe) InitKind(rootfs, init string) plan.InitKind {
	if rootfs == "" {
		rootfs = "/"
	}
	f, err := inroot.OpenFile(rootfs, init)
	if err != nil {
		return plan.InitUnknown
	}
	defer f.Close()
	resolved := path.Clean("/" + init)
	if real, err := inroot.Resolved(rootfs, f); err == nil {
		resolved = real
	}
	return classifyInit(resolved, func() []byte {
		b, _ := io.ReadAll(io.LimitReader(f, 4<<20))
		return b
	})
}

// classifyInit names an init from its resolved guest path and, when the
// name says nothing, its content.
func classifyInit(resolved string, content func() []byte) plan.InitKind {
	base := path.Base(resolved)
	switch {
	case base == "systemd" || strings.HasSuffix(resolved, "/lib/systemd/systemd"):
		return plan.InitSystemd
	case base == "busybox":
		return plan.InitBusybox
	case base == "sh" || base == "bash" || base == "dash" || base == "ash" || base == "zsh":
		return plan.InitShell
	}
	b := content()
	switch {
	case bytes.Contains(b, []byte("BusyBox")):
		return plan.InitBusybox
	case bytes.Contains(b, []byte("systemd")) && bytes.Contains(b, []byte("SYSTEMD_")):
		return plan.InitSystemd
	case bytes.Contains(b, []byte("/etc/inittab")) && bytes.Contains(b, []byte("INIT_VERSION")):
		return plan.InitSysvinit
	}
	return plan.InitUnknown
}
