//go:build integration

package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// TestImageBadInput: each bad image fails with one error naming the image,
// the layer and the fault, exit status 2, and stores nothing.
func TestImageStoreBadInput(t *testing.T) {
	h := newHarness(t)
	work := t.TempDir()
	rootfsTar := func(name string, extra ...tarEntry) string {
		p := filepath.Join(work, name+".tar")
		if err := os.WriteFile(p, tarDir(t, "", append([]tarEntry{tdir("etc/"), tfile("etc/hostname", "x\n")}, extra...)...), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := tarDir(t, "", tdir("etc/"), tfile("etc/hostname", "x\n"))

	// Digest mismatch: the layout's layer blob swapped for another valid one.
	corrupt := filepath.Join(work, "corrupt")
	img, err := mutate.AppendLayers(empty.Image, layerOf(t, good))
	if err != nil {
		t.Fatal(err)
	}
	writeLayout(t, corrupt, "corrupt", img)
	m, _ := img.Manifest()
	var other bytes.Buffer
	zw := gzip.NewWriter(&other)
	_, _ = zw.Write(tarDir(t, "", tfile("evil", "x")))
	zw.Close()
	if err := os.WriteFile(filepath.Join(corrupt, "blobs/sha256", m.Layers[0].Digest.Hex), other.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Unknown media type.
	unknown := filepath.Join(work, "unknown")
	uimg, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layerOf(t, good), MediaType: "application/vnd.example.layer.v9+lz4"})
	if err != nil {
		t.Fatal(err)
	}
	writeLayout(t, unknown, "unknown", uimg)
	// Truncated tarball.
	trunc := filepath.Join(work, "trunc.tar")
	big := tarDir(t, "", tfile("big", strings.Repeat("x", 20000)))
	if err := os.WriteFile(trunc, big[:9000], 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, source string
		fault        string
		layer        bool
	}{
		{"digest", corrupt, "digest mismatch", true},
		{"mediatype", unknown, `unknown media type "application/vnd.example.layer.v9+lz4"`, true},
		{"truncated", trunc, "unexpected EOF", false},
		{"dotdot", rootfsTar("dotdot", tfile("../../etc/cron.d/evil", "x")), `entry "../../etc/cron.d/evil"`, true},
		{"symlink-out", rootfsTar("symlink", tarEntry{h: tar.Header{Name: "escape", Typeflag: tar.TypeSymlink, Linkname: "/etc"}}, tfile("escape/passwd", "x")),
			`entry "escape/passwd": refused layer entry: the path goes through a symbolic link`, true},
		{"whiteout-root", rootfsTar("whiteoutroot", tfile(".wh..", "")), "whiteout of /", true},
		{"device", rootfsTar("device", tarEntry{h: tar.Header{Name: "dev/sda", Typeflag: tar.TypeBlock, Devmajor: 8, Mode: 0o660}}),
			"a block device 8:0, which a guest may not use", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.run("image", "import", tc.source, "--name", "bad-"+tc.name)
			t.Logf("%s", r.stderr)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.code != 2 || len(lines) != 1 || !strings.Contains(r.stderr, "image bad-"+tc.name+":") || !strings.Contains(r.stderr, tc.fault) ||
				tc.layer && !strings.Contains(r.stderr, "layer sha256:") {
				t.Errorf("import of a bad image: %v\nwant exit 2, one line naming the image, the layer and %q", r, tc.fault)
			}
			if rows := h.images(); len(rows) != 0 {
				t.Errorf("image list after a failed import: %+v", rows)
			}
			for _, d := range []string{"tmp/*", "layers/sha256/*", "configs/sha256/*"} {
				if left, _ := filepath.Glob(filepath.Join(h.root, "lib/images", d)); len(left) > 0 {
					t.Errorf("left in the store: %v", left)
				}
			}
		})
	}
	if _, err := os.Stat("/etc/cron.d/evil"); err == nil {
		t.Errorf("/etc/cron.d/evil exists")
	}
}
