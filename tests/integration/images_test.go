//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

type imageRow struct {
	Name   string   `json:"name"`
	ID     string   `json:"id"`
	Layers []string `json:"layers"`
	Format string   `json:"format"`
}

func (h *harness) images() []imageRow {
	h.t.Helper()
	var rows []imageRow
	if err := json.Unmarshal([]byte(h.must("image", "list", "--json").stdout), &rows); err != nil {
		h.t.Fatal(err)
	}
	return rows
}

// templateImage writes the XML of guest name from image im (extra flags
// for template image) and returns its path.
func (h *harness) templateImage(im, name string, flags ...string) string {
	h.t.Helper()
	r := h.must(append([]string{"template", "image", im, name}, flags...)...)
	if !strings.Contains(r.stdout, "<filesystem type=\"template\">") || !strings.Contains(r.stdout, "<source name=\""+im+"\">") {
		h.t.Fatalf("template image XML:\n%s", r.stdout)
	}
	return h.writeXML(name, r.stdout)
}

// TestImageOCI builds an OCI image from the busybox template's rootfs in
// two layers (a whiteout, an opaque directory), imports it as an OCI
// layout and as a docker-archive, boots a mapped guest from one and an
// unmapped one from the other, and checks that the layers applied, that
// each guest's writes are its own, and that the image is unchanged.
func TestImageOCI(t *testing.T) {
	h := newHarness(t)
	_, rootfs := h.busybox(h.uniqueName("it-imgsrc"), false)
	img := twoLayerImage(t, rootfs, v1.Config{})
	work := t.TempDir()
	writeLayout(t, filepath.Join(work, "oci"), "bb-oci", img)
	writeDockerArchive(t, filepath.Join(work, "bb.tar"), "vmlite.test/bb:docker", img)

	h.must("image", "import", filepath.Join(work, "oci"))
	h.must("image", "import", filepath.Join(work, "bb.tar"))
	rows := h.images()
	if len(rows) != 2 || rows[0].Name != "bb-oci" || rows[1].Name != "vmlite.test/bb:docker" {
		t.Fatalf("image list: %+v", rows)
	}
	if rows[0].ID != rows[1].ID || len(rows[0].Layers) != 2 || rows[0].Format != "oci-layout" || rows[1].Format != "docker-archive" {
		t.Errorf("the same image twice: %+v", rows)
	}
	layers, _ := filepath.Glob(filepath.Join(h.root, "lib/images/layers/sha256/*"))
	if len(layers) != 2 {
		t.Errorf("layers stored: %v, want the two shared ones", layers)
	}
	before := map[string]string{}
	for _, l := range layers {
		before[l] = treeDigest(t, l)
	}

	g1, g2 := h.uniqueName("it-img1"), h.uniqueName("it-img2")
	h.must("start", h.templateImage("bb-oci", g1, "--idmap-auto"))
	h.must("start", h.templateImage("vmlite.test/bb:docker", g2, "--no-idmap"))
	for _, g := range []string{g1, g2} {
		h.waitConsole(g, "vmlite-guest: BOOTED")
		out := h.must("exec", g, "--", "sh", "-c", "ls /opq; cat /etc/layer2 /old/kept.txt; test -e /old/gone.txt && echo GONE-IS-THERE; id -u; stat -c %u /bin/busybox").stdout
		if want := "c\nfrom layer 2\nkept0\n0\n"; out != want {
			t.Errorf("%s sees %q, want %q (layers, whiteout, opaque dir, owners)", g, out, want)
		}
		h.must("exec", g, "--", "sh", "-c", "echo "+g+" > /etc/written-by; rm /old/kept.txt; mkdir -p /srv/"+g)
	}
	for _, c := range []struct{ g, other string }{{g1, g2}, {g2, g1}} {
		out := h.must("exec", c.g, "--", "sh", "-c", "cat /etc/written-by; ls /srv; test -e /old/kept.txt || echo removed").stdout
		if want := c.g + "\n" + c.g + "\nremoved\n"; out != want {
			t.Errorf("%s sees %q, want only its own writes %q", c.g, out, want)
		}
	}
	// The mapped guest's layer holds its writes with its host ids; the
	// unmapped one's with root's.
	for _, g := range []string{g1, g2} {
		if b, err := os.ReadFile(filepath.Join(h.root, "lib/layers", g, "upper/etc/written-by")); err != nil || string(b) != g+"\n" {
			t.Errorf("%s's upper layer: %q, %v", g, b, err)
		}
	}
	var ins struct {
		LayerDirs []string `json:"layerDirs"`
		UsedBy    []string `json:"usedBy"`
		Config    struct {
			RootFS struct {
				DiffIDs []string `json:"diff_ids"`
			} `json:"rootfs"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(h.must("image", "inspect", "bb-oci").stdout), &ins); err != nil {
		t.Fatal(err)
	}
	if len(ins.LayerDirs) != 2 || len(ins.Config.RootFS.DiffIDs) != 2 || len(ins.UsedBy) != 2 {
		t.Errorf("image inspect: %+v (want 2 layers, used by %s and %s, the same image)", ins, g1, g2)
	}
	r := h.run("image", "rm", "bb-oci")
	if r.code != 2 || !strings.Contains(r.stderr, g1) {
		t.Errorf("image rm of an image in use: %v", r)
	}
	h.must("stop", g1)
	h.must("stop", g2)
	for l, d := range before {
		if treeDigest(t, l) != d {
			t.Errorf("layer %s changed", l)
		}
	}
	// Transient guests' layers go with them.
	if left, _ := filepath.Glob(filepath.Join(h.root, "lib/layers/*")); len(left) != 0 {
		t.Errorf("guest layers left: %v", left)
	}

	t.Run("failed start leaves nothing", func(t *testing.T) {
		g := h.uniqueName("it-imgbad")
		r := h.run("start", h.templateImage("bb-oci", g, "--init", "/no/such/init"))
		if r.code == 0 || !strings.Contains(r.stderr, "/no/such/init") {
			t.Fatalf("start with a missing init: %v", r)
		}
		if dirExists(filepath.Join(h.root, "lib/layers", g)) {
			t.Errorf("the failed start left its layer")
		}
		// The overlay was a detached mount: no mount anywhere names the layer.
		mis, _ := filepath.Glob("/proc/[0-9]*/mountinfo")
		for _, f := range mis {
			if mi, _ := os.ReadFile(f); strings.Contains(string(mi), filepath.Join(h.root, "lib")) {
				t.Errorf("%s: mounts of the store or the layers left:\n%s", f, mi)
			}
		}
	})

	h.must("image", "rm", "bb-oci")
	h.must("image", "rm", "vmlite.test/bb:docker")
	if left, _ := filepath.Glob(filepath.Join(h.root, "lib/images/layers/sha256/*")); len(left) != 0 {
		t.Errorf("layers left after image rm: %v", left)
	}
}
