package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"vmlite/state"
)

// countingOpener opens data as often as asked, and counts the opens and
// the bytes read.
type countingOpener struct {
	data         []byte
	opens, bytes int
}

func (c *countingOpener) open() (io.ReadCloser, error) {
	c.opens++
	return io.NopCloser(&countingReader{r: bytes.NewReader(c.data), n: &c.bytes}), nil
}

type countingReader struct {
	r io.Reader
	n *int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += n
	return n, err
}

// owned sets every entry's owner to the caller, so no root is needed.
func owned(es ...tentry) []tentry {
	for i := range es {
		es[i].h.Uid, es[i].h.Gid = os.Getuid(), os.Getgid()
	}
	return es
}

func zst(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// TestImportRootfsReadsOnce: a rootfs tarball is read once, its diff_id
// computed while it is extracted (it once was read a first time for the
// digest alone), plain and compressed.
func TestImportRootfsReadsOnce(t *testing.T) {
	raw := tarOf(t, owned(dir("etc/"), file("etc/hostname", "once\n"), file("big", strings.Repeat("x", 200000)))...)
	sum := sha256.Sum256(raw)
	want := "sha256:" + hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name string
		data []byte
	}{{"tar", raw}, {"zst", zst(t, raw)}} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(state.NewLayout(t.TempDir()))
			c := &countingOpener{data: tc.data}
			im, err := s.importRootfs("once", "once.tar", c.open)
			if err != nil {
				t.Fatal(err)
			}
			if c.opens != 1 || c.bytes != len(tc.data) {
				t.Errorf("the tarball was opened %d times and %d bytes read, want once and %d", c.opens, c.bytes, len(tc.data))
			}
			if len(im.Layers) != 1 || im.Layers[0] != want {
				t.Errorf("layers %v, want [%s]", im.Layers, want)
			}
			cfg, err := s.Config(im)
			if err != nil || len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0].String() != want {
				t.Errorf("config: %+v, %v", cfg, err)
			}
			if b, err := os.ReadFile(filepath.Join(s.LayerDir(want), "etc/hostname")); err != nil || string(b) != "once\n" {
				t.Errorf("extracted: %q, %v", b, err)
			}
			// The same tarball again: stored once.
			if _, err := s.importRootfs("again", "once.tar", (&countingOpener{data: tc.data}).open); err != nil {
				t.Fatal(err)
			}
			if ls, _ := filepath.Glob(filepath.Join(s.Dir(), "layers/sha256/*")); len(ls) != 1 {
				t.Errorf("layers stored: %v", ls)
			}
		})
	}
}

// TestImportRootfsRefuses: what the first pass used to prove (a whole,
// non-empty archive) and what extraction refuses still fail the import
// and store nothing, naming the layer by its digest where the whole
// stream could be read.
func TestImportRootfsRefuses(t *testing.T) {
	good := tarOf(t, owned(file("a", strings.Repeat("y", 20000)))...)
	bad := tarOf(t, owned(file("ok", "x"), file("../../etc/evil", "x"))...)
	for _, tc := range []struct {
		name, fault string
		data        []byte
		layer       bool
	}{
		{"truncated", "unexpected EOF", good[:9000], false},
		{"empty", "an empty tar archive", tarOf(t), true},
		{"dotdot", `entry "../../etc/evil"`, bad, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(state.NewLayout(t.TempDir()))
			_, err := s.importRootfs("bad", "bad.tar", (&countingOpener{data: tc.data}).open)
			var ie *ImportError
			if !errors.As(err, &ie) || !ie.UserError() || !strings.Contains(err.Error(), tc.fault) || tc.layer != strings.Contains(err.Error(), "layer sha256:") {
				t.Fatalf("import: %v, want a user error with %q (naming the layer's digest: %v)", err, tc.fault, tc.layer)
			}
			if ims, _ := s.List(); len(ims) != 0 {
				t.Errorf("listed after a failed import: %v", ims)
			}
			for _, d := range []string{"tmp/*", "layers/sha256/*", "configs/sha256/*"} {
				if left, _ := filepath.Glob(filepath.Join(s.Dir(), d)); len(left) > 0 {
					t.Errorf("left in the store: %v", left)
				}
			}
		})
	}
}

// TestIsDockerArchive: docker-archive layouts are recognised wherever
// manifest.json is, and a rootfs tarball is given up at its first entry.
func TestIsDockerArchive(t *testing.T) {
	hex64 := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name  string
		names []string
		want  bool
	}{
		{"legacy docker save", []string{hex64 + "/", hex64 + "/VERSION", hex64 + "/layer.tar", hex64 + ".json", "manifest.json", "repositories"}, true},
		{"docker 25", []string{"blobs/", "blobs/sha256/", "blobs/sha256/" + hex64, "index.json", "manifest.json", "oci-layout", "repositories"}, true},
		{"go-containerregistry", []string{"sha256:" + hex64, hex64 + ".tar.gz", "manifest.json"}, true},
		{"rootfs", []string{"./", "./etc/", "./manifest.json"}, false},
		{"rootfs without ./", []string{"bin/", "manifest.json"}, false},
		{"no manifest", []string{hex64 + ".json"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var es []tentry
			for _, n := range tc.names {
				if strings.HasSuffix(n, "/") {
					es = append(es, dir(n))
				} else {
					es = append(es, file(n, "{}"))
				}
			}
			p := filepath.Join(t.TempDir(), "a.tar")
			if err := os.WriteFile(p, tarOf(t, es...), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := isDockerArchive(p); got != tc.want {
				t.Errorf("isDockerArchive = %v, want %v", got, tc.want)
			}
		})
	}
}
