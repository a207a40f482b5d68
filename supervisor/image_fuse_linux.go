package supervisor

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/mountinfo"
	"vmlite/internal/procstat"
	"vmlite/plan"
)

// fuseExportSeq numbers the FUSE exports of this process: one file each in
// the guest's runtime directory.
var fuseExportSeq atomic.Uint64

// fuseExportTimeout bounds qemu-storage-daemon's start-up: from exec to its
// export mounted.
const fuseExportTimeout = 30 * time.Second

// exportFUSE serves img (any format qemu reads) as a raw regular file,
// through qemu-storage-daemon's FUSE export (Debian qemu-system-common),
// for a loop device: the way to a qcow2 image on a host whose kernel has
// no nbd driver. The export file lives in the guest's runtime directory;
// the daemon, its mount and the file go with the boot's undo, after the
// loop device on it is gone (undoFUSEExport).
func (s *Supervisor) exportFUSE(img *plan.Image, ro bool) (string, error) {
	qsd, err := exec.LookPath("qemu-storage-daemon")
	if err != nil {
		return "", fmt.Errorf("the host has no nbd driver (modprobe nbd) and qemu-storage-daemon is not installed (Debian qemu-system-common): one of them serves a %s image", img.Format)
	}
	export := filepath.Join(s.p.Paths.RunDir, fmt.Sprintf("image%d.fuse", fuseExportSeq.Add(1)))
	// A FUSE export is mounted on a regular file.
	ef, err := os.OpenFile(export, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return "", fmt.Errorf("export file: %w", err)
	}
	ef.Close()
	var stderr headBuffer
	cmd := exec.Command(qsd, qsdArgs(img, export, ro)...)
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	// Its own process group: a signal to the supervisor's group (a
	// terminal's ^C) does not pull the guest's disk away.
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.Remove(export)
		return "", fmt.Errorf("qemu-storage-daemon: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	undo := func() error { return undoFUSEExport(cmd.Process, exited, export) }
	deadline := time.Now().Add(fuseExportTimeout)
	for !fuseMounted(export) {
		select {
		case <-exited:
			_ = undo()
			return "", fmt.Errorf("qemu-storage-daemon could not serve the %s image: %s", img.Format, daemonError(stderr.String()))
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			err := undo()
			return "", errors.Join(fmt.Errorf("qemu-storage-daemon did not export the image within %v", fuseExportTimeout), err)
		}
	}
	s.afterKill = append(s.afterKill, undo)
	return export, nil
}

// headBuffer keeps the first 4 KiB written to it: the daemon's start-up
// error, not whatever it writes over a guest's lifetime.
type headBuffer struct{ bytes.Buffer }

func (b *headBuffer) Write(p []byte) (int, error) {
	if room := 4096 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// qsdArgs is qemu-storage-daemon's command line for img: a file node, the
// format node on it, and the FUSE export of that node onto export.
func qsdArgs(img *plan.Image, export string, ro bool) []string {
	roOpt, writable := "", "on"
	if ro {
		roOpt, writable = ",read-only=on", "off"
	}
	return []string{
		"--blockdev", "driver=file,node-name=file,filename=" + qemuOptEscape(img.File) + roOpt,
		"--blockdev", "driver=" + qemuOptEscape(img.Format) + ",node-name=image,file=file" + roOpt,
		"--export", "type=fuse,id=export,node-name=image,mountpoint=" + qemuOptEscape(export) + ",writable=" + writable,
	}
}

// qemuOptEscape escapes a value in a qemu option string (commas doubled).
func qemuOptEscape(v string) string { return strings.ReplaceAll(v, ",", ",,") }

// daemonError is the gist of qemu-storage-daemon's failure output.
func daemonError(out string) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return "it exited without a message"
	}
	return strings.ReplaceAll(out, "\n", "; ")
}

// fuseMounted reports whether a FUSE filesystem is mounted on path in the
// supervisor's mount namespace.
func fuseMounted(path string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	ms, err := mountinfo.Parse(string(b))
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.MountPoint == path && strings.HasPrefix(m.FSType, "fuse") {
			return true
		}
	}
	return false
}

// undoFUSEExport waits for the loop device on export to go (it clears
// itself once the guest's mount is released), then stops the daemon
// (SIGTERM: qemu flushes the image and unmounts its export), reaps it, and
// removes the export file. Run once the boot's processes are dead.
func undoFUSEExport(p *os.Process, exited <-chan struct{}, export string) error {
	var errs []error
	deadline := time.Now().Add(10 * time.Second)
	for loopBacking(export) != "" {
		if time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("the loop device on %s did not clear: stopping its daemon anyway", export))
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = p.Signal(unix.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = p.Kill()
		<-exited
		errs = append(errs, fmt.Errorf("qemu-storage-daemon %d ignored SIGTERM: killed", p.Pid))
	}
	if fuseMounted(export) {
		if err := unix.Unmount(export, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", export, err))
		}
	}
	if err := os.Remove(export); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// stopOrphanExports undoes the FUSE exports a dead supervisor left for the
// guest whose runtime directory is runDir (its guest already killed): each
// qemu-storage-daemon serving one is stopped as undoFUSEExport does (init,
// its parent now, reaps it), and the export files go.
func stopOrphanExports(runDir string) error {
	var errs []error
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		export := orphanExport(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), runDir)
		if export == "" {
			continue
		}
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		start, err := ProcStart(pid)
		if err != nil {
			continue
		}
		p, _ := os.FindProcess(pid)
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			for {
				// Ended: a zombie leader's other threads may still hold
				// the export's FUSE connection.
				if procstat.Ended(pid, start) {
					return
				}
				time.Sleep(pollInterval)
			}
		}()
		errs = append(errs, undoFUSEExport(p, exited, export))
	}
	left, _ := filepath.Glob(filepath.Join(runDir, "image*.fuse"))
	for _, export := range left {
		if fuseMounted(export) {
			if err := unix.Unmount(export, unix.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("unmount %s: %w", export, err))
			}
		}
		if err := os.Remove(export); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// orphanExport returns the export file in runDir that a qemu-storage-daemon
// command line (qsdArgs) serves, or "" for any other process.
func orphanExport(args []string, runDir string) string {
	if len(args) == 0 || filepath.Base(args[0]) != "qemu-storage-daemon" {
		return ""
	}
	for i, a := range args {
		if a != "--export" || i+1 >= len(args) {
			continue
		}
		for _, opt := range strings.Split(strings.ReplaceAll(args[i+1], ",,", "\x00"), ",") {
			v, ok := strings.CutPrefix(opt, "mountpoint=")
			if !ok {
				continue
			}
			v = strings.ReplaceAll(v, "\x00", ",")
			if filepath.Dir(v) == runDir && strings.HasPrefix(filepath.Base(v), "image") && strings.HasSuffix(v, ".fuse") {
				return v
			}
		}
	}
	return ""
}
