//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// qcow2XML is a guest on qcow2 images as libvirt's LXC driver takes them
// (<driver type='nbd' format='qcow2'/>): the root, a writable extra mount
// and a read-only one.
const qcow2XML = `<domain type='lxc'>
  <name>%s</name>
  <memory unit='MiB'>128</memory>
  <os><type>exe</type><init>/sbin/init</init></os>
  <devices>
    <filesystem type='file' accessmode='passthrough'>
      <driver type='nbd' format='qcow2'/>
      <source file='%s'/>
      <target dir='/'/>
    </filesystem>
    <filesystem type='file'>
      <driver type='nbd' format='qcow2'/>
      <source file='%s'/>
      <target dir='/data'/>
    </filesystem>
    <filesystem type='file'>
      <driver type='nbd' format='qcow2'/>
      <source file='%s'/>
      <target dir='/ro'/>
      <readonly/>
    </filesystem>
    <console type='pty'/>
  </devices>
</domain>
`

// qcow2Image makes a qcow2 image of dir: an ext4 filesystem made with the
// tree in it (mkfs.ext4 -d) on a raw file, converted by qemu-img.
func qcow2Image(t *testing.T, dir, img string) {
	t.Helper()
	raw := img + ".raw"
	mkfsImage(t, "ext4", dir, raw)
	if out, err := exec.Command("qemu-img", "convert", "-O", "qcow2", raw, img).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert: %v\n%s", err, out)
	}
	os.Remove(raw)
}

// qcow2File reads path from the ext4 filesystem in a qcow2 image (converted
// back to raw, read with debugfs): what a guest wrote is in the image.
func qcow2File(t *testing.T, img, path string) string {
	t.Helper()
	raw := filepath.Join(t.TempDir(), "back.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", img, raw).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert %s: %v\n%s", img, err, out)
	}
	out, err := exec.Command("debugfs", "-R", "cat "+path, raw).CombinedOutput()
	if err != nil {
		t.Fatalf("debugfs cat %s: %v\n%s", path, err, out)
	}
	return string(out)
}

// nbdOnHost reports whether qemu-nbd serves the images here (else
// qemu-storage-daemon's FUSE export does).
func nbdOnHost() bool {
	_, err := os.Stat("/sys/module/nbd")
	return err == nil
}

// TestQcow2Filesystems: <driver type='nbd' format='qcow2'/> as the root, a
// writable extra mount and a <readonly/> one; the guest's writes are in the
// qcow2 files after the stop, which leaves no daemon, FUSE mount, loop or
// nbd device behind; a second guest cannot take an image in use.
func TestQcow2Filesystems(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-qcow")
	_, rootfs := h.busybox(name, false)
	dir := t.TempDir()
	rootImg, dataImg, roImg := filepath.Join(dir, "root.qcow2"), filepath.Join(dir, "data.qcow2"), filepath.Join(dir, "ro.qcow2")
	qcow2Image(t, rootfs, rootImg)
	for _, img := range []string{dataImg, roImg} {
		tree := filepath.Join(t.TempDir(), "tree")
		if err := os.MkdirAll(tree, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tree, "marker"), []byte("in "+filepath.Base(img)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		qcow2Image(t, tree, img)
	}
	xml := h.writeXML(name, fmt.Sprintf(qcow2XML, name, rootImg, dataImg, roImg))
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)

	mounts := h.must("exec", name, "--", "cat", "/proc/mounts").stdout
	for _, want := range []string{" / ext4 rw", " /data ext4 rw", " /ro ext4 ro"} {
		if !strings.Contains(mounts, want) {
			t.Errorf("no %q in the guest's mounts:\n%s", want, mounts)
		}
	}
	if got := h.must("exec", name, "--", "cat", "/ro/marker").stdout; got != "in ro.qcow2\n" {
		t.Errorf("/ro/marker: %q", got)
	}
	if r := h.run("exec", name, "--", "sh", "-c", "echo x > /ro/new"); r.code == 0 {
		t.Errorf("the <readonly/> qcow2 image is writable")
	}
	h.must("exec", name, "--", "sh", "-c", "echo written-in-data > /data/new && echo written-in-root > /root-file")

	svLog, _ := os.ReadFile(filepath.Join(h.root, "log", name+".supervisor.log"))
	via := "qemu-storage-daemon FUSE export"
	if nbdOnHost() {
		via = "(qemu-nbd)"
	} else if n := len(storageDaemonsUnder(filepath.Join(h.root, "run", "guests", name))); n != 3 {
		t.Errorf("want a qemu-storage-daemon per image while running, found %d", n)
	}
	if strings.Count(string(svLog), via) != 3 {
		t.Errorf("the supervisor log does not say %q for each image:\n%s", via, svLog)
	}

	// A second guest cannot take an image in use.
	other := h.uniqueName("it-qcow2")
	otherDir := t.TempDir()
	otherRoot := filepath.Join(otherDir, "root.qcow2")
	otherRO := filepath.Join(otherDir, "ro.qcow2")
	qcow2Image(t, rootfs, otherRoot)
	qcow2Image(t, rootfs, otherRO)
	// The root is attached first, then the image in use is refused: the
	// root's attachment is undone.
	r := h.run("start", h.writeXML(other, fmt.Sprintf(qcow2XML, other, otherRoot, dataImg, otherRO)))
	if r.code != 2 || !strings.Contains(r.stderr, "in use") || !strings.Contains(r.stderr, "/domain/devices/filesystem") {
		t.Errorf("second guest on an image in use: %v", r)
	}
	t.Logf("second guest: %s", r.stderr)
	h.assertGone(other)
	waitNoLoops(t, otherRoot, otherRO)

	h.must("stop", name)
	h.assertGone(name)
	waitNoLoops(t, rootImg, dataImg, roImg)
	for _, img := range []string{rootImg, dataImg, roImg} {
		if out, err := exec.Command("qemu-img", "check", img).CombinedOutput(); err != nil {
			t.Errorf("qemu-img check %s after the stop: %v\n%s", img, err, out)
		}
	}
	if got := qcow2File(t, dataImg, "/new"); !strings.Contains(got, "written-in-data") {
		t.Errorf("the guest's write is not in data.qcow2: %q", got)
	}
	if got := qcow2File(t, rootImg, "/root-file"); !strings.Contains(got, "written-in-root") {
		t.Errorf("the guest's write is not in root.qcow2: %q", got)
	}
}

// TestQcow2BadInput: a qcow2 image without a format, a truncated one and a
// missing one fail with one error naming the element, and leave no guest,
// daemon, FUSE mount or loop device behind.
func TestQcow2BadInput(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.qcow2")
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	qcow2Image(t, tree, good)
	truncated := filepath.Join(dir, "truncated.qcow2")
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// The header and tables stay, the clusters the filesystem is in go:
	// qemu opens it, the kernel cannot mount what it reads.
	if err := os.WriteFile(truncated, b[:len(b)/4], 0o644); err != nil {
		t.Fatal(err)
	}
	notQcow := filepath.Join(dir, "text.qcow2")
	if err := os.WriteFile(notQcow, []byte(strings.Repeat("not an image\n", 4096)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, rootfs := h.busybox(h.uniqueName("it-qcowbad-tpl"), false)
	rootImg := filepath.Join(dir, "root.qcow2")
	qcow2Image(t, rootfs, rootImg)

	for _, tc := range []struct {
		what, driver, file string
		want               []string
	}{
		{"no format", `<driver type='nbd'/>`, good, []string{"/domain/devices/filesystem", "an nbd image needs an explicit format", "format='qcow2'"}},
		{"truncated", `<driver type='nbd' format='qcow2'/>`, truncated, []string{"/domain/devices/filesystem", "qemu-img check"}},
		{"not qcow2", `<driver type='nbd' format='qcow2'/>`, notQcow, []string{"/domain/devices/filesystem", "not in qcow2 format"}},
		{"missing", `<driver type='nbd' format='qcow2'/>`, filepath.Join(dir, "missing.qcow2"), []string{"/domain/devices/filesystem[2]/source/@file", "not an existing image file"}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			name := h.uniqueName("it-qcowbad")
			doc := fmt.Sprintf(`<domain type='lxc'><name>%s</name><os><type>exe</type><init>/sbin/init</init></os><devices>
<filesystem type='file'><driver type='nbd' format='qcow2'/><source file='%s'/><target dir='/'/></filesystem>
<filesystem type='file'>%s<source file='%s'/><target dir='/data'/></filesystem>
<console type='pty'/></devices></domain>`, name, rootImg, tc.driver, tc.file)
			r := h.run("start", h.writeXML(name, doc))
			t.Logf("%s: %s", tc.what, r.stderr)
			if r.code != 2 {
				t.Errorf("exit %d, want 2: %v", r.code, r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("the error does not say %q: %v", w, r)
				}
			}
			h.assertGone(name)
			waitNoLoops(t, rootImg, tc.file)
			// The root image was attached and let go: it is whole.
			if out, err := exec.Command("qemu-img", "check", rootImg).CombinedOutput(); err != nil {
				t.Errorf("qemu-img check %s: %v\n%s", rootImg, err, out)
			}
		})
	}
}

// TestQcow2SupervisorKilled: a guest on qcow2 images whose supervisor is
// killed is still undone whole by destroy: its qemu-storage-daemons (now
// init's children) stopped, their exports and loop devices gone, the
// images whole and free for the next start.
func TestQcow2SupervisorKilled(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-qcowork")
	_, rootfs := h.busybox(name, false)
	dir := t.TempDir()
	rootImg, dataImg, roImg := filepath.Join(dir, "root.qcow2"), filepath.Join(dir, "data.qcow2"), filepath.Join(dir, "ro.qcow2")
	for _, img := range []string{rootImg, dataImg, roImg} {
		qcow2Image(t, rootfs, img)
	}
	xml := h.writeXML(name, fmt.Sprintf(qcow2XML, name, rootImg, dataImg, roImg))
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	h.must("exec", name, "--", "sh", "-c", "echo before-the-kill > /data/kept")
	st := h.status(name)
	if err := syscall.Kill(st.SupervisorPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "supervisor gone", func() bool { return processGone(st.SupervisorPID) })
	h.must("destroy", name)
	h.assertGone(name)
	waitNoLoops(t, rootImg, dataImg, roImg)
	for _, img := range []string{rootImg, dataImg, roImg} {
		if out, err := exec.Command("qemu-img", "check", img).CombinedOutput(); err != nil {
			t.Errorf("qemu-img check %s after destroy: %v\n%s", img, err, out)
		}
	}
	if got := qcow2File(t, dataImg, "/kept"); !strings.Contains(got, "before-the-kill") {
		t.Errorf("the guest's write is not in data.qcow2: %q", got)
	}
	// The images are free again.
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	h.must("stop", name)
	h.assertGone(name)
}

// TestQcow2Idmapped: a qcow2 root of a guest with <idmap> is an idmapped
// mount (owners as the guest sees them, nothing shifted in the image).
func TestQcow2Idmapped(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-qcowmap")
	_, rootfs := h.busybox(name, false)
	rootImg := filepath.Join(t.TempDir(), "root.qcow2")
	qcow2Image(t, rootfs, rootImg)
	xml := h.writeXML(name, fmt.Sprintf(`<domain type='lxc'>
  <name>%s</name>
  <os><type>exe</type><init>/sbin/init</init></os>
%s  <devices>
    <filesystem type='file'><driver type='nbd' format='qcow2'/><source file='%s'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>`, name, idmapXML, rootImg))
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	if got := strings.TrimSpace(h.must("exec", name, "--", "stat", "-c", "%u", "/bin").stdout); got != "0" {
		t.Errorf("/bin is owned by %s inside, want 0", got)
	}
	h.must("exec", name, "--", "sh", "-c", "echo mapped > /by-guest-root")
	h.must("stop", name)
	h.assertGone(name)
	waitNoLoops(t, rootImg)
	raw := filepath.Join(t.TempDir(), "back.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", rootImg, raw).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert: %v\n%s", err, out)
	}
	// Stored as uid 0: an idmapped mount, not a shift on disk.
	if out, err := exec.Command("debugfs", "-R", "stat /by-guest-root", raw).CombinedOutput(); err != nil || !strings.Contains(string(out), "User:     0") {
		t.Errorf("the guest root's file in the image: %v\n%s", err, out)
	}
}
