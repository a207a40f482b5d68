package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// bonnieArgs make one bonnie++ run of about 20 s here: a 3 GiB file
// (bonnie++ wants twice -r), no small-file tests (-n 0), no per-character
// tests (-f: they time putc/getc, not the I/O path), as root, CSV on
// standard output (-q). Buffered I/O, as in the seed tables: the block
// figures measure the page cache and ext4 on both sides alike, since the
// guest's memory limit is set above the file (bonnieGuestKiB). With -D
// (O_DIRECT) bonnie++ 2.00a still timed the block read as "+++++" here.
var bonnieArgs = []string{"-s", "3G", "-r", "1536M", "-n", "0", "-f", "-u", "root", "-q"}

// bonnieGuestKiB is the bonnie++ guest's memory limit: 4 GiB, above the
// 3 GiB file, so that its page cache is not reclaimed within the guest's
// cgroup, which the host's run (no limit) would not see either.
const bonnieGuestKiB = 4 << 20

// bonnieTimeout bounds one bonnie++ run.
const bonnieTimeout = 5 * time.Minute

// guestBonnie is where the host's bonnie++ binary is copied in the guest:
// host and guest run the same binary (host and rootfs are both Debian 12,
// so its libraries are the same versions).
const guestBonnie = "/usr/local/sbin/bonnie++"

// bonnieAll runs bonnie++ -bonnie-runs times on the host and in a booted
// vmlite Debian guest (through `vmlite exec`), taking turns (who goes first
// alternates), both in a directory on the same ext4 filesystem (the
// guest's rootfs copy lies in the scratch directory), and reports each
// figure's guest delta in %.
func (b *bench) bonnieAll() {
	res := &BonnieResult{Command: "bonnie++ -d DIR " + strings.Join(bonnieArgs, " ")}
	b.res.Bonnie = res
	fail := func(err error) {
		res.Errors = append(res.Errors, err.Error())
		b.note("bonnie++: %v", err)
	}
	if err := ensurePackages("bonnie++"); err != nil {
		fail(err)
		return
	}
	hostBin, err := exec.LookPath("bonnie++")
	if err != nil {
		hostBin = "/usr/sbin/bonnie++"
	}
	base, err := b.debianBase()
	if err != nil {
		fail(err)
		return
	}
	root := filepath.Join(b.work, "deb-bonnie")
	if _, err := run("cp", "-a", base, root); err != nil {
		fail(err)
		return
	}
	defer os.RemoveAll(root)
	if _, err := run("cp", hostBin, filepath.Join(root, guestBonnie)); err != nil {
		fail(err)
		return
	}
	hostDir, guestDir := filepath.Join(b.work, "bonnie-host"), "/vmbench-bonnie"
	for _, d := range []string{hostDir, filepath.Join(root, guestDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fail(err)
			return
		}
	}
	defer os.RemoveAll(hostDir)

	vp := *b.vm
	vp.tmplXML = withMemoryKiB(withSysAdmin(b.debXML), bonnieGuestKiB)
	g, err := b.guestFor(&vp, "vmb-vmlite-b", root)
	if err != nil {
		fail(err)
		return
	}
	g.initBin = debianInit
	if _, _, _, err := bootGuest(&vp, g); err != nil {
		vp.cleanupGuest(g)
		fail(err)
		return
	}
	defer func() {
		var s cycleSample
		if err := stopGuest(&vp, g, true, &s); err != nil {
			vp.cleanupGuest(g)
		}
	}()

	sides := []struct {
		name string
		cmd  func(ctx context.Context) *exec.Cmd
		vals [][]float64
	}{
		{name: "host", cmd: func(ctx context.Context) *exec.Cmd {
			return exec.CommandContext(ctx, hostBin, append([]string{"-d", hostDir, "-m", "host"}, bonnieArgs...)...)
		}},
		{name: "guest", cmd: func(ctx context.Context) *exec.Cmd {
			return vp.cmdContext(ctx, append([]string{"exec", g.name, "--", guestBonnie, "-d", guestDir, "-m", "guest"}, bonnieArgs...)...)
		}},
	}
	for i := 0; i < b.o.bonnieRuns; i++ {
		for k := range sides {
			s := &sides[(i+k)%len(sides)] // alternate who goes first
			logf("bonnie++: run %d/%d, %s", i+1, b.o.bonnieRuns, s.name)
			ctx, cancel := context.WithTimeout(context.Background(), bonnieTimeout)
			out, err := runCmd(s.cmd(ctx))
			cancel()
			if err != nil {
				fail(err)
				return
			}
			vals, err := parseBonnie(out)
			if err != nil {
				fail(err)
				return
			}
			s.vals = append(s.vals, vals)
		}
	}
	for j, f := range bonnieFields {
		col := func(runs [][]float64) Summary {
			xs := make([]float64, len(runs))
			for i, r := range runs {
				xs[i] = r[j]
			}
			return summarize(xs)
		}
		fig := BonnieFigure{Name: f.name, Unit: f.unit, Host: col(sides[0].vals), Guest: col(sides[1].vals)}
		if fig.Host.N > 0 && fig.Guest.N > 0 && fig.Host.Median > 0 {
			fig.DeltaPct = (fig.Guest.Median - fig.Host.Median) / fig.Host.Median * 100
		}
		fig.Paired = summarize(pairedDeltas(sides[0].vals, sides[1].vals, j))
		res.Figures = append(res.Figures, fig)
	}
}
