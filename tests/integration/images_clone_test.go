//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestImageClone clones a shut-off guest from an image, boots both and
// checks that they differ in name, uuid, MAC, host ids, hostname and
// writes while sharing what SRC had written before; --snapshot clones a
// running guest; undefine --remove-storage removes each guest's own layer
// and the snapshot only with the last guest over it.
func TestImageClone(t *testing.T) {
	h := newHarness(t)
	_, rootfs := h.busybox(h.uniqueName("it-clsrc"), false)
	tarball := filepath.Join(t.TempDir(), "bb.tar")
	if err := os.WriteFile(tarball, tarDir(t, rootfs), 0o644); err != nil {
		t.Fatal(err)
	}
	h.must("image", "import", tarball, "--name", "bbc")
	src, dst, live := h.uniqueName("it-cl1"), h.uniqueName("it-cl2"), h.uniqueName("it-cl3")
	doc := h.must("template", "image", "bbc", src, "--idmap-auto").stdout
	doc = strings.Replace(doc, "<console", "<interface type='ethernet'><mac address='52:54:00:12:34:56'/><ip address='198.19.251.2' prefix='30'/></interface>\n    <console", 1)
	h.must("define", h.writeXML(src, doc))
	h.must("start", src)
	h.waitConsole(src, "vmlite-guest: BOOTED")
	h.must("exec", src, "--", "sh", "-c", "echo before-clone > /etc/src-file")
	r := h.run("clone", src, dst)
	if r.code != 2 || !strings.Contains(r.stderr, "--snapshot") {
		t.Errorf("clone of a running guest without --snapshot: %v", r)
	}
	h.must("stop", src)
	h.must("clone", src, dst)

	xmlOf := func(g string) string { return h.must("dumpxml", g).stdout }
	field := func(doc, re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(doc)
		if m == nil {
			t.Fatalf("%s not in\n%s", re, doc)
		}
		return m[1]
	}
	a, b := xmlOf(src), xmlOf(dst)
	for _, re := range []string{`<uuid>([^<]+)</uuid>`, `<mac address="([^"]+)"`, `<uid start="0" target="(\d+)"`} {
		if field(a, re) == field(b, re) {
			t.Errorf("SRC and clone share %s = %s", re, field(a, re))
		}
	}
	if field(b, `<name>([^<]+)</name>`) != dst || !strings.Contains(b, `<source name="bbc">`) {
		t.Errorf("clone's XML:\n%s", b)
	}

	h.must("start", src)
	h.must("start", dst)
	for _, g := range []string{src, dst} {
		h.waitConsole(g, "vmlite-guest: BOOTED")
		out := h.must("exec", g, "--", "sh", "-c", "hostname; cat /etc/src-file; stat -c %u /etc/src-file; echo "+g+" > /etc/own").stdout
		if want := g + "\nbefore-clone\n0\n"; out != want {
			t.Errorf("%s: %q, want %q", g, out, want)
		}
	}
	macs := map[string]bool{}
	for _, c := range []struct{ g, other string }{{src, dst}, {dst, src}} {
		out := h.must("exec", c.g, "--", "sh", "-c", "cat /etc/own; cat /sys/class/net/eth0/address").stdout
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || lines[0] != c.g {
			t.Errorf("%s sees %q: writes must be its own", c.g, out)
			continue
		}
		macs[lines[1]] = true
	}
	if len(macs) != 2 {
		t.Errorf("MACs inside the guests: %v", macs)
	}

	// --snapshot: a running guest's current layer.
	h.must("clone", src, live, "--snapshot")
	if st := h.status(src); st.State != "running" {
		t.Errorf("SRC after clone --snapshot: %+v, want running again", st)
	}
	h.must("start", live)
	h.waitConsole(live, "vmlite-guest: BOOTED")
	if out := h.must("exec", live, "--", "cat", "/etc/own", "/etc/src-file").stdout; out != src+"\nbefore-clone\n" {
		t.Errorf("--snapshot clone sees %q", out)
	}
	for _, g := range []string{src, dst, live} {
		h.must("stop", g)
	}

	snaps := func() []string {
		s, _ := filepath.Glob(filepath.Join(h.root, "lib/images/snapshots/*"))
		return s
	}
	if n := len(snaps()); n != 2 {
		t.Fatalf("snapshots: %v, want the clone's and the --snapshot's", snaps())
	}
	h.must("undefine", dst, "--remove-storage")
	h.must("undefine", live, "--remove-storage")
	if dirExists(filepath.Join(h.root, "lib/layers", dst)) || len(snaps()) != 1 {
		t.Errorf("after undefining the clones: layer of %s there %v, snapshots %v", dst, dirExists(filepath.Join(h.root, "lib/layers", dst)), snaps())
	}
	// SRC still boots over its snapshot.
	h.must("start", src)
	h.waitConsole(src, "vmlite-guest: BOOTED")
	if out := h.must("exec", src, "--", "cat", "/etc/own").stdout; out != src+"\n" {
		t.Errorf("SRC after its clones went: %q", out)
	}
	h.must("stop", src)
	h.must("undefine", src, "--remove-storage")
	if left, _ := filepath.Glob(filepath.Join(h.root, "lib/layers/*")); len(left) != 0 || len(snaps()) != 0 {
		t.Errorf("left: layers %v, snapshots %v", left, snaps())
	}
	if rows := h.images(); len(rows) != 1 {
		t.Errorf("the image must stay: %+v", rows)
	}
}
