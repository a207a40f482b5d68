package launch

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

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

func (hostProbe) Perm(p string) (fs.FileMode, bool) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, false
	}
	return fi.Mode().Perm(), true
}

// InitKind follows init's symlinks inside rootfs (an absolute link target
// is relative to the guest's root, not the host's) and names the init
// system by what it finds.
func (hostProbe) InitKind(rootfs, init string) plan.InitKind {
	if rootfs == "" {
		rootfs = "/"
	}
	p := path.Clean("/" + init)
	for i := 0; i < 16; i++ {
		target, err := os.Readlink(filepath.Join(rootfs, p))
		if err != nil {
			break
		}
		if path.IsAbs(target) {
			p = path.Clean(target)
		} else {
			p = path.Join(path.Dir(p), target)
		}
	}
	return classifyInit(p, func() []byte {
		b, _ := readHead(filepath.Join(rootfs, p), 4<<20)
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

func readHead(p string, n int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, _ := f.Read(buf)
	return buf[:m], nil
}
