package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// workloadRuns is how many times each workload runs on each side.
const workloadRuns = 10

// workloads are the seed tables' kinds of load (../shared/seeds/003_*: a
// CPU-bound benchmark and bonnie++'s bulk write), made from the guest's own
// busybox so that host and guest run the same binary: the rootfs has no
// bonnie++. The input is a 64 MiB file the harness writes into the rootfs
// (the host side, a bare chroot, has no /dev/zero).
var workloads = []struct{ name, cmd string }{
	{"cpu: sha256sum of a 64 MiB file (cached), 3 times", "sha256sum /vmbench.in /vmbench.in /vmbench.in >/dev/null"},
	{"disk: copy 64 MiB with dd + fsync", "dd if=/vmbench.in of=/vmbench.dat bs=1048576 conv=fsync 2>/dev/null; rm -f /vmbench.dat"},
}

// workloadInput is the size of /vmbench.in.
const workloadInput = 64 << 20

// workloadAll runs each workload in a booted vmlite guest (through its
// console shell) and on the host (the same busybox in a chroot), taking
// turns, and reports the guest's delta in %.
func (b *bench) workloadAll() {
	base := filepath.Join(b.work, b.vm.name()+"-base")
	in := filepath.Join(base, "vmbench.in")
	if err := os.WriteFile(in, make([]byte, workloadInput), 0o644); err != nil {
		b.note("workload: %v", err)
		return
	}
	defer os.Remove(in)
	g, err := b.guestFor(b.vm, "vmb-vmlite-w", base)
	if err != nil {
		b.note("workload: %v", err)
		return
	}
	if _, _, _, err := bootGuest(b.vm, g); err != nil {
		b.vm.cleanupGuest(g)
		b.note("workload: %v", err)
		return
	}
	defer func() {
		var s cycleSample
		if err := stopGuest(b.vm, g, true, &s); err != nil {
			b.vm.cleanupGuest(g)
		}
	}()
	guestSh, err := startOnPty(b.vm.cmd("console", g.name))
	if err != nil {
		b.note("workload: %v", err)
		return
	}
	defer guestSh.close()
	defer func() { _ = guestSh.send("\x1d") }()
	hostCmd := exec.Command("chroot", base, "/bin/sh", "-i")
	hostCmd.Env = []string{"PATH=/bin:/sbin:/usr/bin", "HOME=/", "TERM=vt100"}
	hostSh, err := startOnPty(hostCmd)
	if err != nil {
		b.note("workload: %v", err)
		return
	}
	defer hostSh.close()
	defer func() { _ = hostSh.send("exit\n") }()
	for _, c := range []*ptyConn{guestSh, hostSh} {
		if err := syncShell(c, "W0"); err != nil {
			b.note("workload: %v", err)
			return
		}
	}
	for _, w := range workloads {
		logf("workload: %s", w.name)
		var host, guest []float64
		for i := 0; i < workloadRuns; i++ {
			for _, side := range []struct {
				c   *ptyConn
				out *[]float64
			}{{hostSh, &host}, {guestSh, &guest}} {
				t0 := time.Now()
				if err := side.c.send(w.cmd + "; echo END\"\"MARK\n"); err != nil {
					b.note("workload %s: %v", w.name, err)
					return
				}
				if err := side.c.expect("ENDMARK", 5*time.Minute); err != nil {
					b.note("workload %s: %v", w.name, err)
					return
				}
				*side.out = append(*side.out, time.Since(t0).Seconds())
			}
		}
		r := WorkloadResult{Name: w.name, Command: w.cmd, HostS: summarize(host), GuestS: summarize(guest)}
		if r.HostS.Median > 0 {
			r.DeltaPct = (r.GuestS.Median - r.HostS.Median) / r.HostS.Median * 100
		}
		b.res.Workloads = append(b.res.Workloads, r)
	}
	_ = os.Remove(filepath.Join(base, "vmbench.dat"))
}

// syncShell waits until the shell on c runs commands (see consolePath).
func syncShell(c *ptyConn, tag string) error {
	var err error
	for try := 0; try < 10; try++ {
		if err = c.send("echo RE\"\"ADY" + tag + "\n"); err != nil {
			return err
		}
		if err = c.expect("READY"+tag, 2*time.Second); err == nil {
			return nil
		}
	}
	return fmt.Errorf("shell not ready: %w", err)
}
