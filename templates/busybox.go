package templates

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"

	"vmlite/internal/errdefs"
)

// DebianBusybox is where Debian's busybox-static installs its binary.
const DebianBusybox = "/bin/busybox"

// BusyboxMemoryKiB is the default memory limit of a busybox guest (256 MiB).
const BusyboxMemoryKiB = 256 << 10

// BusyboxOptions configure BuildBusybox.
type BusyboxOptions struct {
	// Busybox is the static busybox binary to copy in. "" means
	// DebianBusybox, installed with apt-get (busybox-static) when missing and
	// running as root.
	Busybox string
	// Force builds into a directory that is not empty, replacing the
	// template's own files and leaving every other file alone.
	Force bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// busyboxDirs is the skeleton of the tree, with modes. /tmp and /marker are
// sticky and world-writable: with <idmap>, guest root is an unprivileged host
// uid, and tests read the boot marker that rcS writes into /marker.
var busyboxDirs = []struct {
	path string
	mode os.FileMode
}{
	{"bin", 0o755}, {"sbin", 0o755}, {"usr/bin", 0o755}, {"usr/sbin", 0o755},
	{"etc/init.d", 0o755}, {"proc", 0o555}, {"sys", 0o555}, {"dev", 0o755},
	{"run", 0o755}, {"tmp", 0o777 | os.ModeSticky}, {"root", 0o700}, {"var/log", 0o755},
	{"var/tmp", 0o777 | os.ModeSticky}, {"mnt", 0o755}, {"home", 0o755},
	{"marker", 0o777 | os.ModeSticky},
}

// BuildBusybox builds a bootable busybox root filesystem in dir: the static
// busybox binary, a symlink for each of its applets (/sbin/init among them),
// and the files of templates/busybox (inittab, rcS, passwd, ...).
func BuildBusybox(ctx context.Context, dir string, o BusyboxOptions) (err error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	bin := o.Busybox
	if bin == "" {
		bin = DebianBusybox
		if err := ensureCommand(ctx, bin, "busybox-static", log); err != nil {
			return err
		}
	}
	if err := checkStatic(bin); err != nil {
		return err
	}
	created, err := prepareDir(dir, o.Force)
	if err != nil {
		return err
	}
	defer removeIfFailed(dir, created, &err)
	if err := os.Chmod(dir, 0o755); err != nil { // the guest's "/"
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	t, err := openTree(dir)
	if err != nil {
		return err
	}
	defer t.Close()
	for _, d := range busyboxDirs {
		if err := t.mkdirAll(d.path, d.mode); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("read busybox: %w", err)
	}
	if err := t.writeFile("bin/busybox", data, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(log, "template busybox: installed %s (%d KiB)\n", bin, len(data)>>10)

	out, err := exec.CommandContext(ctx, bin, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("list busybox applets (%s --list-full): %w", bin, err)
	}
	applets, err := ParseAppletList(bytes.NewReader(out))
	if err != nil {
		return fmt.Errorf("%s --list-full: %w", bin, err)
	}
	n := 0
	for _, a := range applets {
		if a == "bin/busybox" || a == "linuxrc" { // linuxrc: for initrds, not guests
			continue
		}
		if err := t.symlink("/bin/busybox", a); err != nil {
			return err
		}
		n++
	}
	// busybox init needs to be PID 1's path even in a build without the applet list entry.
	if !t.exists("sbin/init") {
		return fmt.Errorf("busybox %s has no init applet: %w", bin, errdefs.ErrInvalid)
	}
	if err := t.symlink("/run", "var/run"); err != nil {
		return err
	}
	fmt.Fprintf(log, "template busybox: linked %d applets\n", n)
	if err := installFiles("busybox", t); err != nil {
		return err
	}
	fmt.Fprintf(log, "template busybox: wrote inittab, rcS, rcK, passwd, group in %s\n", dir)
	return nil
}

// checkStatic refuses a busybox that is dynamically linked (Debian's
// "busybox" package rather than "busybox-static"): the guest tree has no
// C library for it.
func checkStatic(bin string) error {
	f, err := elf.Open(bin)
	if err != nil {
		return fmt.Errorf("busybox %s: not an ELF executable: %w: %w", bin, errdefs.ErrInvalid, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("busybox %s is dynamically linked; install busybox-static (apt-get install busybox-static): %w", bin, errdefs.ErrInvalid)
		}
	}
	return nil
}

// prepareDir creates dir (created: it did not exist), or checks that it is
// empty unless force.
func prepareDir(dir string, force bool) (created bool, err error) {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, fmt.Errorf("create %s: %w", dir, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("read %s: %w", dir, err)
	case len(ents) > 0 && !force:
		return false, fmt.Errorf("%s is not empty (use --force to build over it): %w", dir, errdefs.ErrAlreadyExists)
	}
	return false, nil
}

// removeIfFailed removes dir when the build that created it failed (*errp
// set), so that a failed template leaves nothing behind; a directory that
// was there before is left as it is.
func removeIfFailed(dir string, created bool, errp *error) {
	if *errp == nil || !created {
		return
	}
	if rerr := removeTree(dir); rerr != nil {
		*errp = errors.Join(*errp, rerr)
	}
}
