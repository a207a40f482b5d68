package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP (not root): extraction keeps owners and makes device nodes")
	}
}

// tarOf builds a tar stream from headers; a header's Size is set from body.
type tentry struct {
	h    tar.Header
	body string
}

func tarOf(t testing.TB, es ...tentry) []byte {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, e := range es {
		h := e.h
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		h.Size = int64(len(e.body))
		h.ModTime = time.Unix(1700000000, 0)
		if err := w.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func dir(name string) tentry {
	return tentry{h: tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}}
}
func file(name, body string) tentry {
	return tentry{h: tar.Header{Name: name}, body: body}
}

func TestExtractLayer(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	data := tarOf(t,
		dir("./"),
		dir("etc/"),
		tentry{h: tar.Header{Name: "etc/shadow", Mode: 0o4640, Uid: 1000, Gid: 42,
			PAXRecords: map[string]string{"SCHILY.xattr.user.test": "v"}}, body: "secret"},
		tentry{h: tar.Header{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "/bin/busybox", Uid: 7}},
		tentry{h: tar.Header{Name: "bin/link", Typeflag: tar.TypeLink, Linkname: "etc/shadow"}},
		tentry{h: tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666}},
		tentry{h: tar.Header{Name: "run/fifo", Typeflag: tar.TypeFifo, Mode: 0o600}},
		file("gone/.wh.old", ""),
		file("usr/.wh..wh..opq", ""),
		file("replace", "one"),
		file("replace", "two"),
	)
	if _, err := extractLayer(bytes.NewReader(data), root); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "etc/shadow"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 1000 || st.Gid != 42 || st.Mode&0o7777 != 0o4640 || st.Nlink != 2 {
		t.Errorf("etc/shadow: uid %d gid %d mode %o nlink %d", st.Uid, st.Gid, st.Mode&0o7777, st.Nlink)
	}
	if v := make([]byte, 8); true {
		n, err := unix.Getxattr(filepath.Join(root, "etc/shadow"), "user.test", v)
		if err != nil || string(v[:n]) != "v" {
			t.Errorf("xattr user.test: %q, %v", v[:max(n, 0)], err)
		}
	}
	if l, err := os.Readlink(filepath.Join(root, "bin/sh")); err != nil || l != "/bin/busybox" {
		t.Errorf("bin/sh -> %q, %v", l, err)
	}
	if err := unix.Lstat(filepath.Join(root, "dev/null"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("dev/null: %+v %v", st, err)
	}
	if err := unix.Lstat(filepath.Join(root, "gone/old"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("whiteout gone/old: mode %o rdev %d, %v", st.Mode, st.Rdev, err)
	}
	v := make([]byte, 4)
	if n, err := unix.Getxattr(filepath.Join(root, "usr"), "trusted.overlay.opaque", v); err != nil || string(v[:n]) != "y" {
		t.Errorf("usr opaque xattr: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "replace")); string(b) != "two" {
		t.Errorf("replace: %q", b)
	}
	if fi, err := os.Stat(filepath.Join(root, "etc")); err != nil || fi.ModTime().Unix() != 1700000000 {
		t.Errorf("etc mtime: %v %v", fi.ModTime(), err)
	}
}

func TestExtractLayerRefuses(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name    string
		entries []tentry
		want    string
	}{
		{"dotdot", []tentry{file("../escape", "x")}, `".." component`},
		{"through absolute symlink", []tentry{
			{h: tar.Header{Name: "etc", Typeflag: tar.TypeSymlink, Linkname: "/etc"}},
			file("etc/passwd", "x")}, "symbolic link"},
		{"through relative symlink", []tentry{
			{h: tar.Header{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../../.."}},
			file("up/x", "x")}, "symbolic link"},
		{"hard link through symlink", []tentry{
			{h: tar.Header{Name: "etc", Typeflag: tar.TypeSymlink, Linkname: "/etc"}},
			{h: tar.Header{Name: "pw", Typeflag: tar.TypeLink, Linkname: "etc/passwd"}}}, "symbolic link"},
		{"hard link out", []tentry{{h: tar.Header{Name: "pw", Typeflag: tar.TypeLink, Linkname: "../../etc/passwd"}}}, `".."`},
		{"whiteout of root", []tentry{file(".wh..", "")}, "whiteout of /"},
		{"opaque root", []tentry{file("./.wh..wh..opq", "")}, "opaque whiteout of /"},
		{"block device", []tentry{{h: tar.Header{Name: "sda", Typeflag: tar.TypeBlock, Devmajor: 8}}}, "block device 8:0"},
		{"kmem", []tentry{{h: tar.Header{Name: "dev/kmem", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 2}}}, "character device 1:2"},
		{"overlay xattr", []tentry{{h: tar.Header{Name: "d", Typeflag: tar.TypeDir, Mode: 0o755,
			PAXRecords: map[string]string{"SCHILY.xattr.trusted.overlay.redirect": "/etc"}}}}, "belongs to overlayfs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			root := filepath.Join(base, "root")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := extractLayer(bytes.NewReader(tarOf(t, tc.entries...)), root)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			var ee *EntryError
			if !errors.As(err, &ee) {
				t.Errorf("%v does not name the entry", err)
			}
			assertOnlyRoot(t, base)
		})
	}
	t.Run("truncated", func(t *testing.T) {
		data := tarOf(t, file("a", strings.Repeat("x", 5000)))
		_, err := extractLayer(bytes.NewReader(data[:3000]), t.TempDir())
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("got %v, want unexpected EOF", err)
		}
	})
}

// assertOnlyRoot: extraction wrote nothing beside the layer's root.
func assertOnlyRoot(t testing.TB, base string) {
	t.Helper()
	ents, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "root" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("outside the root: %v", names)
	}
}

// FuzzExtractLayer: whatever the tar stream, nothing is written outside
// the layer's root.
func FuzzExtractLayer(f *testing.F) {
	needRoot(f)
	f.Add(tarOf(f, dir("a/"), file("a/b", "x")))
	f.Add(tarOf(f, tentry{h: tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: ".."}}, file("l/x", "y")))
	f.Add(tarOf(f, tentry{h: tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/"}}, tentry{h: tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "l/etc/passwd"}}))
	f.Add(tarOf(f, file("a/.wh.b", ""), file("c/.wh..wh..opq", "")))
	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		root := filepath.Join(base, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		_, _ = extractLayer(bytes.NewReader(data), root)
		assertOnlyRoot(t, base)
	})
}
