//go:build integration

package integration

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tarDir makes a tar stream of the tree at dir (owners, modes, links,
// device nodes), plus extra entries appended as given.
func tarDir(t testing.TB, dir string, extra ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	if dir != "" {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if fi.Mode()&fs.ModeSocket != 0 {
				return nil
			}
			link := ""
			if fi.Mode()&fs.ModeSymlink != 0 {
				if link, err = os.Readlink(p); err != nil {
					return err
				}
			}
			h, err := tar.FileInfoHeader(fi, link)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			h.Name = rel
			if fi.IsDir() {
				h.Name += "/"
			}
			st := fi.Sys().(*syscall.Stat_t)
			h.Uid, h.Gid, h.Uname, h.Gname = int(st.Uid), int(st.Gid), "", ""
			if err := w.WriteHeader(h); err != nil {
				return err
			}
			if fi.Mode().IsRegular() {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				defer f.Close()
				_, err = io.Copy(w, f)
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range extra {
		h := e.h
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		h.Size = int64(len(e.body))
		if err := w.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type tarEntry struct {
	h    tar.Header
	body string
}

func tfile(name, body string) tarEntry { return tarEntry{h: tar.Header{Name: name}, body: body} }
func tdir(name string) tarEntry {
	return tarEntry{h: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}}
}

// layerOf is a gzip-compressed OCI layer of tar stream data.
func layerOf(t testing.TB, data []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// twoLayerImage is the busybox rootfs at dir as an OCI image of two layers:
// the first has the tree plus /old/gone.txt and /opq/{a,b}; the second
// whites /old/gone.txt out, makes /opq opaque with /opq/c only, and adds
// /etc/layer2.
func twoLayerImage(t testing.TB, dir string, cfg v1.Config) v1.Image {
	t.Helper()
	l1 := layerOf(t, tarDir(t, dir, tdir("old/"), tfile("old/gone.txt", "gone"), tfile("old/kept.txt", "kept"),
		tdir("opq/"), tfile("opq/a", "a"), tfile("opq/b", "b")))
	l2 := layerOf(t, tarDir(t, "", tdir("old/"), tfile("old/.wh.gone.txt", ""), tdir("opq/"), tfile("opq/.wh..wh..opq", ""),
		tfile("opq/c", "c"), tdir("etc/"), tfile("etc/layer2", "from layer 2\n")))
	img, err := mutate.AppendLayers(empty.Image, l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config = "linux", runtime.GOARCH, cfg
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return mutate.MediaType(img, types.OCIManifestSchema1)
}

// writeLayout writes img as an OCI image layout at dir, named ref.
func writeLayout(t testing.TB, dir, ref string, img v1.Image) {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})); err != nil {
		t.Fatal(err)
	}
}

// writeDockerArchive writes img as docker save does, tagged tag.
func writeDockerArchive(t testing.TB, path, tag string, img v1.Image) {
	t.Helper()
	tg, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, tg, img); err != nil {
		t.Fatal(err)
	}
}

// treeDigest sums a tree's names, types, owners, modes, sizes and
// contents: "the image is unchanged".
func treeDigest(t testing.TB, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		rel, _ := filepath.Rel(dir, p)
		line := fmt.Sprintf("%s %v %d:%d %d", rel, fi.Mode(), st.Uid, st.Gid, st.Rdev)
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			line += " " + hex.EncodeToString(sum[:])
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}
