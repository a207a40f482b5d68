package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// imageName is the image every guest of the section comes from.
const imageName = "vmb-deb"

// imagesAll is the images section, on the Debian template tree (the
// debian section's base, marker unit included): import against tar -x,
// clones against lxc-copy's overlayfs snapshots and cp -a, guests from
// one image against full copies. Every guest is unmapped with
// CAP_SYS_ADMIN, like LXC's and nspawn's.
func (b *bench) imagesAll() {
	r := &ImagesResult{}
	b.res.Images = r
	base, err := b.debianBase()
	if err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("no Debian tree: %v", err))
		return
	}
	kib, files := duKiB(base)
	r.Tree = fmt.Sprintf("the Debian template tree (%.0f MiB, %d files)", float64(kib)/1024, files)
	tarball := filepath.Join(b.work, "deb.tar")
	if _, err := run("tar", "--xattrs", "--xattrs-include=*", "-C", base, "-cf", tarball, "."); err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("tar of the tree: %v", err))
		return
	}
	defer os.Remove(tarball)
	if fi, err := os.Stat(tarball); err == nil {
		r.TarMiB = float64(fi.Size()) / (1 << 20)
	}
	r.Import = b.imagesImport(tarball)
	if _, err := runCmd(b.vm.cmd("image", "import", tarball, "--name", imageName)); err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("import for the clones and guests: %v", err))
		return
	}
	r.Clones = b.imagesClones(base)
	r.Density = []ImageDensity{b.imagesDensity("image", base), b.imagesDensity("full copies", base)}
	if n := b.o.imagesGuests; n > 0 && n < 200 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d guests from the image (-images-guests; the issue's figure is 200)", n))
	}
	if n := b.o.imagesCopyN; n >= 0 && n != b.o.imagesGuests {
		r.Notes = append(r.Notes, fmt.Sprintf("%d guests on full copies (-images-copy-guests)", n))
	}
	if b.o.imagesIDMap {
		r.Notes = append(r.Notes, fmt.Sprintf("every guest of the density part mapped, guest i to host ids from %d + i×65536 on, its user namespace owned by the first (-images-idmap)", imagesIDBase))
	}
}

// imagesImport unpacks the tarball with `vmlite image import` into a
// fresh state root and with tar -x into a fresh directory, taking turns.
func (b *bench) imagesImport(tarball string) []ImportResult {
	// Warm: both read the tarball from the page cache.
	if f, err := os.Open(tarball); err == nil {
		_, _ = io.Copy(io.Discard, f)
		f.Close()
	}
	fi, _ := os.Stat(tarball)
	mb := float64(fi.Size()) / 1e6
	sides := []struct {
		cmd  string
		argv func(dir string) []string
	}{
		{"vmlite image import deb.tar", func(dir string) []string {
			return []string{b.vm.bin, "--root", dir, "image", "import", tarball, "--name", "deb"}
		}},
		{"tar --xattrs --xattrs-include='*' -xpf deb.tar", func(dir string) []string {
			return []string{"tar", "--xattrs", "--xattrs-include=*", "-xpf", tarball, "-C", dir}
		}},
	}
	type samples struct{ wall, cpu, rate []float64 }
	got := make([]samples, len(sides))
	out := make([]ImportResult, len(sides))
	for i := 0; i < b.o.imagesImports; i++ {
		for j, s := range sides {
			dir := filepath.Join(b.work, fmt.Sprintf("import-%d-%d", i, j))
			if err := os.MkdirAll(dir, 0o711); err != nil {
				out[j].Errors = append(out[j].Errors, err.Error())
				continue
			}
			argv := s.argv(dir)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			c := exec.CommandContext(ctx, argv[0], argv[1:]...)
			logf("images: import %d/%d: %s", i+1, b.o.imagesImports, s.cmd)
			t0 := time.Now()
			_, err := runCmd(c)
			wall := time.Since(t0).Seconds()
			cancel()
			if err != nil {
				out[j].Errors = append(out[j].Errors, err.Error())
			} else {
				cpu := (c.ProcessState.UserTime() + c.ProcessState.SystemTime()).Seconds()
				got[j].wall = append(got[j].wall, wall)
				got[j].cpu = append(got[j].cpu, cpu)
				got[j].rate = append(got[j].rate, mb/wall)
			}
			if err := os.RemoveAll(dir); err != nil {
				logf("images: %v", err)
			}
		}
	}
	for j, s := range sides {
		out[j].Command = s.cmd
		out[j].WallS, out[j].CPUS, out[j].MBPerS = summarize(got[j].wall), summarize(got[j].cpu), summarize(got[j].rate)
	}
	return out
}

// imagesClones clones a shut-off Debian guest that booted once: vmlite
// clone of a guest from the image, lxc-copy -s -B overlayfs of an LXC
// container on a copy of the tree (LXC needs its rootfs below its
// container directory), cp -a of the tree; taking turns clone by clone.
// cp -a makes at most -images-copies copies (each 250 MB, removed once
// measured).
func (b *bench) imagesClones(base string) []CloneResult {
	n := b.o.imagesClones
	vm := CloneResult{Peer: "vmlite", Command: "vmlite clone SRC NEW"}
	lx := CloneResult{Peer: "lxc", Command: "lxc-copy -n SRC -N NEW -s -B overlayfs"}
	cp := CloneResult{Peer: "nspawn (cp -a)", Command: "cp -a SRC NEW"}
	fail := func(c *CloneResult, err error) {
		if len(c.Errors) < 3 {
			c.Errors = append(c.Errors, err.Error())
		}
	}
	var ms, disk [3][]float64

	// vmlite's source: a defined guest from the image, booted once.
	src := "vmb-imsrc"
	vmOK := b.bootOnce(src)
	if vmOK != nil {
		fail(&vm, vmOK)
	}
	defer func() {
		_, _ = runCmd(b.vm.cmd("undefine", src, "--remove-storage"))
	}()
	// LXC's source.
	var lxcPath string
	lxcOK := fmt.Errorf("lxc not among the peers")
	for _, p := range b.peers {
		if _, ok := p.(*lxcPeer); ok {
			lxcOK = nil
		}
	}
	if lxcOK == nil {
		lxcPath = filepath.Join(b.work, "lxc-images")
		lxcOK = lxcSource(lxcPath, base)
		defer func() {
			_, _ = run("lxc-destroy", "-n", "vmb-lxsrc", "-P", lxcPath)
			_ = os.RemoveAll(lxcPath)
		}()
	}
	if lxcOK != nil {
		fail(&lx, lxcOK)
	}
	timed := func(argv ...string) (float64, error) {
		t0 := time.Now()
		_, err := run(argv[0], argv[1:]...)
		return float64(time.Since(t0).Microseconds()) / 1000, err
	}
	var vmClones, lxClones []string
	for i := 0; i < n; i++ {
		if i%20 == 0 {
			logf("images: clones %d/%d", i+1, n)
		}
		if vmOK == nil {
			name := fmt.Sprintf("vmb-ic-%04d", i)
			t, err := timed(b.vm.bin, "--root", b.vm.root, "clone", src, name)
			if err != nil {
				fail(&vm, err)
			} else {
				vmClones = append(vmClones, name)
				k, _ := duKiB(filepath.Join(b.vm.root, "lib/layers", name), filepath.Join(b.vm.root, "lib/domains", name+".xml"))
				ms[0], disk[0] = append(ms[0], t), append(disk[0], float64(k))
			}
		}
		if lxcOK == nil {
			name := fmt.Sprintf("vmb-lc-%04d", i)
			t, err := timed("lxc-copy", "-n", "vmb-lxsrc", "-N", name, "-P", lxcPath, "-s", "-B", "overlayfs")
			if err != nil {
				fail(&lx, err)
			} else {
				lxClones = append(lxClones, name)
				k, _ := duKiB(filepath.Join(lxcPath, name))
				ms[1], disk[1] = append(ms[1], t), append(disk[1], float64(k))
			}
		}
		// The copies spread over the run, so that they see its load.
		if copies := b.o.imagesCopies; copies > 0 && i%max(1, n/copies) == 0 && len(ms[2]) < copies {
			dst := filepath.Join(b.work, "cpa-clone")
			t, err := timed("cp", "-a", base, dst)
			if err != nil {
				fail(&cp, err)
			} else {
				k, _ := duKiB(dst)
				ms[2], disk[2] = append(ms[2], t), append(disk[2], float64(k))
			}
			_ = os.RemoveAll(dst)
		}
	}
	for _, c := range vmClones {
		_, _ = runCmd(b.vm.cmd("undefine", c, "--remove-storage"))
	}
	for _, c := range lxClones {
		_, _ = run("lxc-destroy", "-n", c, "-P", lxcPath)
	}
	vm.N, lx.N, cp.N = len(ms[0]), len(ms[1]), len(ms[2])
	vm.Ms, lx.Ms, cp.Ms = summarize(ms[0]), summarize(ms[1]), summarize(ms[2])
	vm.DiskKiB, lx.DiskKiB, cp.DiskKiB = summarize(disk[0]), summarize(disk[1]), summarize(disk[2])
	return []CloneResult{vm, lx, cp}
}

// bootOnce defines guest name from the image, boots it to its marker and
// shuts it down: a source with a layer of its own, as a clone's source
// would have.
func (b *bench) bootOnce(name string) error {
	x, err := runCmd(b.vm.cmd("template", "image", imageName, name, "--no-idmap"))
	if err != nil {
		return err
	}
	f := filepath.Join(b.work, name+".xml")
	if err := os.WriteFile(f, []byte(withSysAdmin(x)), 0o644); err != nil {
		return err
	}
	if _, err := runCmd(b.vm.cmd("define", f)); err != nil {
		return err
	}
	if _, err := runCmd(b.vm.cmd("start", name)); err != nil {
		return err
	}
	_, werr := waitFile(filepath.Join(b.vm.root, "lib/layers", name, "upper/marker/booted"), 2*bootDeadline)
	if _, err := runCmd(b.vm.cmd("stop", name, "--timeout", "60s")); err != nil {
		return err
	}
	return werr
}

// lxcSource makes LXC's source container vmb-lxsrc at path, its rootfs
// a copy of base below its directory.
func lxcSource(path, base string) error {
	dir := filepath.Join(path, "vmb-lxsrc")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := run("cp", "-a", base, filepath.Join(dir, "rootfs")); err != nil {
		return err
	}
	conf := strings.Join([]string{
		"lxc.include = /usr/share/lxc/config/common.conf",
		"lxc.uts.name = vmb-lxsrc",
		"lxc.rootfs.path = dir:" + filepath.Join(dir, "rootfs"),
		"lxc.init.cmd = /sbin/init",
		"lxc.net.0.type = empty",
		"lxc.tty.max = 0",
		"lxc.signal.halt = SIGRTMIN+3",
	}, "\n") + "\n"
	return os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644)
}

// imagesDensity boots -images-guests Debian guests of one setup (from the
// image, or each from its own cp -a copy of the tree), a few start
// commands at a time, waits for every marker, reads the host's memory
// and the guests' trees, and destroys them.
func (b *bench) imagesDensity(setup, base string) ImageDensity {
	image := setup == "image"
	mapped := b.o.imagesIDMap
	n := b.o.imagesGuests
	if !image && b.o.imagesCopyN >= 0 {
		n = b.o.imagesCopyN
	}
	if max := roomFor(filepath.Join(b.work), base, image); max < n {
		b.res.Images.Notes = append(b.res.Images.Notes, fmt.Sprintf("%s: %d guests instead of %d: the host's free disk and memory leave room for that many", setup, max, n))
		n = max
	}
	d := ImageDensity{Setup: setup, IDMap: mapped, N: n}
	var mu sync.Mutex
	type one struct {
		name, xml, marker, disk string
		started, booted         time.Time
	}
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(d.Errors) < 5 {
			d.Errors = append(d.Errors, fmt.Sprintf(format, args...))
		}
	}
	dir := filepath.Join(b.work, "images-density")
	if err := os.MkdirAll(dir, 0o711); err != nil {
		fail("%v", err)
		return d
	}
	var guests []*one
	defer func() {
		// Every guest this section started is destroyed before the
		// directory with their XML and full copies goes: one left running
		// on a removed tree is beyond any clean-up (the run's clean-up
		// destroys what is left, then removes the scratch directory).
		for _, g := range guests {
			if g != nil {
				_, _ = runCmd(b.vm.cmd("destroy", g.name))
			}
		}
		left, err := b.vm.activeGuests()
		for _, n := range left {
			for _, g := range guests {
				if g != nil && g.name == n {
					err = fmt.Errorf("guest %s still runs", n)
				}
			}
		}
		if err != nil {
			logf("images: keeping %s: %v", dir, err)
			return
		}
		os.RemoveAll(dir)
	}()
	// Mapped, each guest has host ids of its own (withIDTarget below):
	// the template's default range is one for every guest, which vmlite
	// refuses to run twice at once.
	tmpl := withSysAdmin(b.debXML)
	if mapped {
		tmpl = withIDMap(b.debXML)
	}
	if image {
		args := []string{"template", "image", imageName, "vmb-tmpl", "--no-idmap"}
		if mapped {
			args = []string{"template", "image", imageName, "vmb-tmpl", "--idmap-target", strconv.Itoa(imagesIDBase)}
		}
		x, err := runCmd(b.vm.cmd(args...))
		if err != nil {
			fail("%v", err)
			return d
		}
		tmpl = x
		if !mapped {
			tmpl = withSysAdmin(x)
		}
	}
	guests = make([]*one, n)
	var coldLeft int64
	for i := range guests {
		tag := "if"
		if image {
			tag = "ii"
		}
		g := &one{name: fmt.Sprintf("vmb-%s-%04d", tag, i)}
		g.xml = filepath.Join(dir, g.name+".xml")
		x := nameRE.ReplaceAllLiteralString(tmpl, "<name>"+g.name+"</name>")
		if mapped {
			x = withIDTarget(x, imagesIDBase+uint32(i)*65536)
		}
		if image {
			g.disk = filepath.Join(b.vm.root, "lib/layers", g.name)
			g.marker = filepath.Join(g.disk, "upper/marker/booted")
		} else {
			g.disk = filepath.Join(dir, g.name+"-rootfs")
			g.marker = filepath.Join(g.disk, "marker/booted")
			left, err := coldCopy(base, g.disk)
			if err != nil {
				fail("copy: %v", err)
				return d
			}
			coldLeft += left
			x = guestXML(x, g.name, g.disk)
		}
		if err := os.WriteFile(g.xml, []byte(x), 0o644); err != nil {
			fail("%v", err)
			return d
		}
		guests[i] = g
	}
	if !image && n > 0 {
		b.res.Images.Notes = append(b.res.Images.Notes, fmt.Sprintf("full copies made cold: each cp -a in a memory cgroup of its own whose memory (the copy's page cache, inodes and dentries) was then reclaimed, %.0f KiB a copy left", float64(coldLeft)/float64(n)))
	}
	unix.Sync()
	time.Sleep(2 * time.Second) // the copies' writeback settles
	mem0, _ := memUsed()
	k0, kerr := readKmem("")
	logf("images: %d guests, %s", n, setup)
	t0 := time.Now()
	// Four start commands at a time: a start returns once init runs.
	sem := make(chan struct{}, 4)
	done := make(chan *one, n)
	for _, g := range guests {
		sem <- struct{}{}
		g.started = time.Now()
		go func(g *one) {
			defer func() { <-sem }()
			if _, err := runCmd(b.vm.cmd("start", g.xml)); err != nil {
				fail("%s: %v", g.name, err)
				done <- g
				return
			}
			if at, err := waitFile(g.marker, 60*time.Second+time.Duration(n)*time.Second); err == nil {
				g.booted = at
			} else {
				fail("%s: %v", g.name, err)
			}
			done <- g
		}(g)
		// The start returned or the marker appeared: the next may go.
	}
	var boots []float64
	var last time.Time
	for range guests {
		g := <-done
		if !g.booted.IsZero() {
			d.Booted++
			boots = append(boots, g.booted.Sub(g.started).Seconds())
			if g.booted.After(last) {
				last = g.booted
			}
		}
	}
	d.BootS = summarize(boots)
	if d.Booted > 0 {
		d.AllBootedS = last.Sub(t0).Seconds()
	}
	time.Sleep(3 * time.Second)
	mem1, _ := memUsed()
	if k1, err := readKmem(""); err == nil && kerr == nil && d.Booted > 0 {
		d.SlabTop = breakdown(k0, k1, d.Booted, 8).SlabTop
	}
	d.LoadAvg = loadAvg()
	pp := parents()
	var tree Rollup
	counted := 0
	var diskSum, own int64
	for _, g := range guests {
		if g.booted.IsZero() {
			continue
		}
		_, init, err := b.vm.procs(&guest{name: g.name})
		if err != nil {
			fail("%s: %v", g.name, err)
			continue
		}
		t, _, err := treeRollupIn(init, pp)
		if err != nil {
			fail("%s: %v", g.name, err)
			continue
		}
		cg, err := memCgroupOf(init)
		var m cgMem
		if err == nil {
			m, err = memCgroupUsage(guestCgroupDir(cg, g.name))
		}
		if err != nil {
			fail("%s: memory cgroup: %v", g.name, err)
			continue
		}
		tree = tree.Add(t)
		own += m.Anon + m.Kmem + m.Shmem
		counted++
		k, _ := duKiB(g.disk)
		diskSum += k
	}
	if d.Booted > 0 {
		d.UsedKiB = float64(mem1-mem0) / float64(d.Booted)
		d.DiskKiB = float64(diskSum) / float64(d.Booted)
	}
	if counted > 0 {
		c := float64(counted)
		d.PSSKiB, d.PSSFileKiB, d.PSSAnonKiB = float64(tree.PSS)/c, float64(tree.PSSFile)/c, float64(tree.PSSAnon)/c
		d.OwnKiB = float64(own) / c
		d.HostKiB = d.OwnKiB + d.PSSFileKiB
	}
	logf("images: %s x %d: %d booted in %.1fs, host %.0f KiB/guest (cgroup own %.0f, file PSS %.0f)", setup, n, d.Booted, d.AllBootedS, d.HostKiB, d.OwnKiB, d.PSSFileKiB)
	return d
}

// roomFor is how many Debian guests the host has room for in half of its
// available memory (50 MiB each: a Debian guest's own memory, file pages,
// page cache of its layer and share of a supervisor are half that) and, for
// full copies, half of its free disk (the tree's size each): the other
// half stays for the rest of the machine's work.
func roomFor(dir, base string, image bool) int {
	avail := func() int64 {
		f, err := os.Open("/proc/meminfo")
		if err != nil {
			return 0
		}
		defer f.Close()
		m, err := parseMeminfoAll(f)
		if err != nil {
			return 0
		}
		return m["MemAvailable"] << 10
	}()
	n := int(avail / 2 / (50 << 20))
	if !image {
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) == nil {
			tree, _ := duKiB(base)
			free := int64(st.Bavail) * st.Bsize
			n = min(n, int(free/2/max(tree<<10, 1)))
		}
	}
	return max(n, 0)
}

// duKiB is the disk the paths take (allocated blocks, each inode once) and
// the number of inodes.
func duKiB(paths ...string) (int64, int) {
	seen := map[[2]uint64]bool{}
	var blocks int64
	for _, p := range paths {
		_ = filepath.WalkDir(p, func(path string, _ fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			var st unix.Stat_t
			if unix.Lstat(path, &st) != nil {
				return nil
			}
			key := [2]uint64{st.Dev, st.Ino}
			if !seen[key] {
				seen[key] = true
				blocks += st.Blocks
			}
			return nil
		})
	}
	return blocks * 512 / 1024, len(seen)
}
