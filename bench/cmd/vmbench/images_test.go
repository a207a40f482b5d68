package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImagesTables: the images section's tables carry every figure and
// the ratios the targets are about.
func TestImagesTables(t *testing.T) {
	s := func(x float64) Summary { return Summary{Median: x, Min: x, Max: x, N: 1} }
	r := &ImagesResult{
		Tree: "the Debian template tree (251 MiB, 8338 files)", TarMiB: 245,
		Import: []ImportResult{{Command: "vmlite image import deb.tar", WallS: s(3), CPUS: s(2), MBPerS: s(80)},
			{Command: "tar -xpf deb.tar", WallS: s(2), CPUS: s(1.5), MBPerS: s(120)}},
		Clones: []CloneResult{{Peer: "vmlite", Command: "vmlite clone SRC NEW", N: 200, Ms: s(9), DiskKiB: s(20)},
			{Peer: "lxc", Command: "lxc-copy", N: 200, Ms: s(30), DiskKiB: s(40), Errors: []string{"boom"}}},
		Density: []ImageDensity{{Setup: "image", IDMap: true, N: 10, Booted: 10, HostKiB: 9000, OwnKiB: 6000, PSSFileKiB: 3000, LoadAvg: "1 2 3",
			SlabTop: []KiBDelta{{Name: "ovl_inode", KiB: 300}, {Name: "dentry", KiB: 120}}},
			{Setup: "full copies", N: 10, Booted: 10, HostKiB: 20000, LoadAvg: "1 2 3"}},
		Notes: []string{"10 guests of each kind"},
	}
	var w strings.Builder
	imagesTables(&w, r)
	out := w.String()
	for _, want := range []string{
		"## Images: the Debian template tree (251 MiB, 8338 files)",
		"| `vmlite image import deb.tar` | 3.00 / 3.00 / 3.00 | 2.00 / 2.00 / 2.00 | 80.00 / 80.00 / 80.00 |",
		"vmlite import / tar -x wall time: 1.50",
		"| vmlite | `vmlite clone SRC NEW` | 200 | 9.00 / 9.00 / 9.00 | 20.00 / 20.00 / 20.00 |",
		"| image, mapped | 10 | 10 | 0.0 | – | 9000 | 6000 |",
		"slab growth per guest, KiB, host-wide (image): ovl_inode 300, dentry 120",
		"host memory per guest, image / full copies: 0.45",
		"error (lxc): `boom`",
		"- 10 guests of each kind",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// TestDuKiB: allocated blocks, a hard-linked file counted once.
func TestDuKiB(t *testing.T) {
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "a"), make([]byte, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(d, "a"), filepath.Join(d, "b")); err != nil {
		t.Fatal(err)
	}
	kib, files := duKiB(d)
	if files != 2 || kib < 64 || kib > 64+16 {
		t.Errorf("duKiB = %d KiB, %d inodes; want 64 KiB and a few for the directory, 2 inodes", kib, files)
	}
}

// TestWithIDTarget: both ranges of a template's <idmap> move; nothing else.
func TestWithIDTarget(t *testing.T) {
	in := `<domain><idmap>
    <uid start="0" target="100000" count="65536"></uid>
    <gid start="0" target="100000" count="65536"></gid>
  </idmap><memory unit="KiB">100000</memory></domain>`
	want := `<domain><idmap>
    <uid start="0" target="200065536" count="65536"></uid>
    <gid start="0" target="200065536" count="65536"></gid>
  </idmap><memory unit="KiB">100000</memory></domain>`
	if got := withIDTarget(in, imagesIDBase+65536); got != want {
		t.Errorf("withIDTarget:\n%s\nwant\n%s", got, want)
	}
}

// TestGuestCgroupDir: the guest's leaf above a cgroup its systemd made.
func TestGuestCgroupDir(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		{"/sys/fs/cgroup/memory/vmlite/machine/g1.0a1b2c3d/init.scope", "/sys/fs/cgroup/memory/vmlite/machine/g1.0a1b2c3d"},
		{"/sys/fs/cgroup/memory/vmlite/machine/g1.0a1b2c3d", "/sys/fs/cgroup/memory/vmlite/machine/g1.0a1b2c3d"},
		{"/sys/fs/cgroup/memory/vmlite/machine/g10.0a1b2c3d/init.scope", "/sys/fs/cgroup/memory/vmlite/machine/g10.0a1b2c3d/init.scope"},
	} {
		if got := guestCgroupDir(tc.dir, "g1"); got != tc.want {
			t.Errorf("guestCgroupDir(%s) = %s, want %s", tc.dir, got, tc.want)
		}
	}
}
