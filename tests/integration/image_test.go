//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// imageXML is shaped like what image builders write for libvirt LXC: the
// root an image file on a loop device, a second image mounted read-only.
const imageXML = `<domain type='lxc'>
  <name>%s</name>
  <memory unit='MiB'>128</memory>
  <os><type>exe</type><init>/sbin/init</init></os>
  <devices>
    <filesystem type='file' accessmode='passthrough'>
      <driver type='loop' format='raw'/>
      <source file='%s'/>
      <target dir='/'/>
    </filesystem>
    <filesystem type='file'>
      <driver type='loop' format='raw'/>
      <source file='%s'/>
      <target dir='/data'/>
      <readonly/>
    </filesystem>
    <console type='pty'/>
  </devices>
%s</domain>
`

const idmapXML = `  <idmap>
    <uid start='0' target='100000' count='65536'/>
    <gid start='0' target='100000' count='65536'/>
  </idmap>
`

// mkfsImage makes an image of dir: ext4 (mkfs.ext4 -d, e2fsprogs),
// squashfs (squashfs-tools) or erofs (erofs-utils).
func mkfsImage(t *testing.T, fstype, dir, img string) {
	t.Helper()
	var cmd *exec.Cmd
	switch fstype {
	case "ext4":
		cmd = exec.Command("mkfs.ext4", "-q", "-F", "-d", dir, img, "32M")
	case "squashfs":
		cmd = exec.Command("mksquashfs", dir, img, "-quiet", "-noappend")
	case "erofs":
		cmd = exec.Command("mkfs.erofs", "--quiet", img, dir)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}

// loopsOf lists the loop devices whose backing file is one of files.
func loopsOf(files ...string) []string {
	var out []string
	bfs, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	for _, bf := range bfs {
		b, _ := os.ReadFile(bf)
		for _, f := range files {
			if strings.TrimSpace(string(b)) == f {
				out = append(out, bf)
			}
		}
	}
	return out
}

func waitNoLoops(t *testing.T, files ...string) {
	t.Helper()
	testutil.WaitFor(t, 20*time.Second, "loop devices of the images gone", func() bool { return len(loopsOf(files...)) == 0 })
}

// TestImageFilesystems: <filesystem type='file'> with driver loop as the
// root (plain and idmapped) and as a read-only extra mount; the loop
// devices are gone after stop; bad images fail with the element named and
// leave nothing behind.
func TestImageFilesystems(t *testing.T) {
	for _, tc := range []struct {
		idmap  bool
		dataFS string // the read-only image's filesystem
	}{{false, "squashfs"}, {false, "erofs"}, {true, "ext4"}} {
		idmap := tc.idmap
		t.Run(fmt.Sprintf("idmap=%v,data=%s", idmap, tc.dataFS), func(t *testing.T) {
			h := newHarness(t)
			name := h.uniqueName("it-img")
			_, rootfs := h.busybox(name, false)
			dir := t.TempDir()
			rootImg, dataImg := filepath.Join(dir, "root.img"), filepath.Join(dir, "data.img")
			mkfsImage(t, "ext4", rootfs, rootImg)
			data := filepath.Join(dir, "data")
			if err := os.MkdirAll(data, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(data, "marker"), []byte("from the data image\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			mkfsImage(t, tc.dataFS, data, dataImg)
			im := ""
			if idmap {
				im = idmapXML
			}
			xml := h.writeXML(name, fmt.Sprintf(imageXML, name, rootImg, dataImg, im))
			h.must("start", xml)
			h.waitConsole(name, "vmlite-guest: BOOTED "+name)
			mounts := h.must("exec", name, "--", "cat", "/proc/mounts").stdout
			if !strings.Contains(mounts, " / ext4 rw") || !strings.Contains(mounts, " /data "+tc.dataFS+" ro") {
				t.Errorf("the images are not / (rw) and /data (ro):\n%s", mounts)
			}
			if got := h.must("exec", name, "--", "cat", "/data/marker").stdout; got != "from the data image\n" {
				t.Errorf("/data/marker: %q", got)
			}
			if r := h.run("exec", name, "--", "sh", "-c", "echo x > /data/new"); r.code == 0 {
				t.Errorf("the read-only image is writable")
			}
			h.must("exec", name, "--", "sh", "-c", "echo kept > /written-in-image")
			if got := strings.TrimSpace(h.must("exec", name, "--", "stat", "-c", "%u", "/bin").stdout); got != "0" {
				t.Errorf("/bin is owned by %s inside, want 0", got)
			}
			if len(loopsOf(rootImg, dataImg)) != 2 {
				t.Errorf("want a loop device per image while running: %v", loopsOf(rootImg, dataImg))
			}

			// A second guest cannot take an image in use.
			other := h.uniqueName("it-img2")
			r := h.run("start", h.writeXML(other, fmt.Sprintf(imageXML, other, rootImg, dataImg, strings.ReplaceAll(im, "100000", "300000"))))
			if r.code != 2 || !strings.Contains(r.stderr, "in use") || !strings.Contains(r.stderr, "/domain/devices/filesystem") {
				t.Errorf("second guest on the same image: %v", r)
			}
			h.assertGone(other)

			h.must("stop", name)
			h.assertGone(name)
			waitNoLoops(t, rootImg, dataImg)
			// What the guest wrote is in the image.
			if out, err := exec.Command("debugfs", "-R", "cat /written-in-image", rootImg).CombinedOutput(); err != nil || !strings.Contains(string(out), "kept") {
				t.Errorf("the guest's write is not in the image: %v %s", err, out)
			}
		})
	}
}

// TestImageBadInput: a missing image, and a file that is no image (on a
// loop device, and served as an nbd image) fail with the element named,
// and leave no loop device, mount, daemon or guest behind.
func TestImageBadInput(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	notImage := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notImage, []byte(strings.Repeat("not a filesystem\n", 4096)), 0o644); err != nil {
		t.Fatal(err)
	}
	one := func(name, fs string) result {
		doc := fmt.Sprintf(`<domain type='lxc'><name>%s</name><os><type>exe</type><init>/sbin/init</init></os><devices>%s<console type='pty'/></devices></domain>`, name, fs)
		return h.run("start", h.writeXML(name, doc))
	}
	name := h.uniqueName("it-imgbad")
	r := one(name, `<filesystem type='file'><source file='`+filepath.Join(dir, "missing.img")+`'/><target dir='/'/></filesystem>`)
	if r.code != 2 || !strings.Contains(r.stderr, "/domain/devices/filesystem/source/@file") || !strings.Contains(r.stderr, "not an existing image file") {
		t.Errorf("missing image: %v", r)
	}
	h.assertGone(name)
	name = h.uniqueName("it-imgbad")
	r = one(name, `<filesystem type='file'><driver type='loop' format='raw'/><source file='`+notImage+`'/><target dir='/'/></filesystem>`)
	if r.code != 2 || !strings.Contains(r.stderr, "/domain/devices/filesystem") || !strings.Contains(r.stderr, "not a filesystem image") {
		t.Errorf("not an image: %v", r)
	}
	h.assertGone(name)
	waitNoLoops(t, notImage)
	name = h.uniqueName("it-imgbad")
	r = one(name, `<filesystem type='file'><driver type='nbd'/><source file='`+notImage+`'/><target dir='/'/></filesystem>`)
	if r.code != 2 || !strings.Contains(r.stderr, "an nbd image needs an explicit format") {
		t.Errorf("nbd without format: %v", r)
	}
	// A raw file served through nbd (qemu-nbd, or qemu-storage-daemon
	// where the host has no nbd driver) that holds no filesystem.
	name = h.uniqueName("it-imgbad")
	r = one(name, `<filesystem type='file'><driver type='nbd' format='raw'/><source file='`+notImage+`'/><target dir='/'/></filesystem>`)
	if r.code != 2 || !strings.Contains(r.stderr, "/domain/devices/filesystem") || !strings.Contains(r.stderr, "not a filesystem image") {
		t.Errorf("nbd image with no filesystem: %v", r)
	}
	h.assertGone(name)
	waitNoLoops(t, notImage)
}
