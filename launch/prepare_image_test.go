package launch

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/domain"
	"vmlite/image"
	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// storeImage imports a one-file rootfs tarball (owned by the caller, so
// no root is needed) into l's store as image name.
func storeImage(t *testing.T, l state.Layout, name string) *image.Store {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	uid, gid := os.Getuid(), os.Getgid()
	for _, h := range []*tar.Header{
		{Name: "sbin/", Typeflag: tar.TypeDir, Mode: 0o755, Uid: uid, Gid: gid},
		{Name: "sbin/init", Typeflag: tar.TypeReg, Mode: 0o755, Size: 3, Uid: uid, Gid: gid},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("#!\n"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), name+".tar")
	if err := os.WriteFile(tarball, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	s := image.NewStore(l)
	if _, err := s.Import(tarball, name); err != nil {
		t.Fatal(err)
	}
	return s
}

func fromImage(t *testing.T, name, im string) *domain.Domain {
	t.Helper()
	doc := `<domain type='lxc'><name>` + name + `</name><memory>65536</memory>
  <os><type>exe</type><init>/sbin/init</init></os>
  <devices><filesystem type='template'><source name='` + im + `'/><target dir='/'/></filesystem></devices>
</domain>`
	d, _, err := domain.Parse(name+".xml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func noUsers(image.Image) ([]string, error) { return nil, nil }

// TestPrepareHoldsImage: a prepared first start from an image holds a
// reference to the image's layers (the guest's layer record, made under
// the store's lock) before anything uses them, so image rm between the
// plan and the mount is refused, naming the guest; a start given up
// (Release) drops it, and image rm then goes through.
func TestPrepareHoldsImage(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	s := storeImage(t, l, "img")
	o := opts(l)
	o.Images = s
	prep, err := Prepare(fromImage(t, "web-starting", "img"), o)
	if err != nil {
		t.Fatal(err)
	}
	if ov := prep.Plan.Rootfs.Overlay; ov == nil || !ov.Fresh {
		t.Fatalf("plan overlay: %+v, want a fresh layer", prep.Plan.Rootfs.Overlay)
	}
	if _, err := os.Stat(filepath.Join(l.GuestLayerDir("web-starting"), "upper")); err != nil {
		t.Errorf("the prepared start has no layer: %v", err)
	}
	_, err = s.Remove("img", noUsers)
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "web-starting") {
		t.Fatalf("image rm under a starting guest: %v, want it refused naming web-starting", err)
	}
	for _, d := range s.LowerDirs(mustGet(t, s, "img")) {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("layer %s: %v", d, err)
		}
	}
	prep.Release()
	if _, err := os.Stat(l.GuestLayerDir("web-starting")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Release left the fresh layer: %v", err)
	}
	if _, err := s.Remove("img", noUsers); err != nil {
		t.Errorf("image rm after the start was given up: %v", err)
	}
}

// TestPrepareImageRemoved: an image removed between the plan and the
// claim (the layers gone) fails the start with the image's name and
// leaves no layer.
func TestPrepareImageRemoved(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	s := storeImage(t, l, "img")
	o := opts(l)
	o.Images = removeAfterRoot{s}
	prep, err := Prepare(fromImage(t, "g", "img"), o)
	if err == nil {
		prep.Release()
		t.Fatal("Prepare succeeded over a removed image")
	}
	if !strings.Contains(err.Error(), "img") {
		t.Errorf("Prepare: %v, want it to name the image", err)
	}
	if _, err := os.Stat(l.GuestLayerDir("g")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed Prepare left a layer: %v", err)
	}
	if _, err := os.Stat(l.RunDir("g")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed Prepare left the runtime directory: %v", err)
	}
}

// removeAfterRoot is the store with an image rm landing right after the
// plan resolved the root.
type removeAfterRoot struct{ *image.Store }

func (r removeAfterRoot) Root(guest, ref string) (*plan.Overlay, error) {
	ov, err := r.Store.Root(guest, ref)
	if err == nil {
		_, err = r.Store.Remove(ref, noUsers)
	}
	return ov, err
}

func mustGet(t *testing.T, s *image.Store, ref string) image.Image {
	t.Helper()
	im, err := s.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	return im
}
