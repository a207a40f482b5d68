package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// GuestLayer is the record of a guest's own copy-on-write layer
// (state.Layout.GuestLayerDir(NAME)/layer.json): the lower directories its
// upper directory was made over, fixed when the layer was made, so that a
// new image under the same name (or a clone's snapshot) never slides under
// an existing guest's changes.
type GuestLayer struct {
	Guest string `json:"guest"`
	// Image and ImageID are the image the guest was made from.
	Image   string `json:"image"`
	ImageID string `json:"imageId"`
	// Lowers are host directories, top first: snapshots (vmlite clone),
	// then the image's layers.
	Lowers []string `json:"lowers"`
	// Stored is the id map the upper directory's owners are stored with:
	// overlayfs writes a mapped guest's files with their host ids (an
	// idmapped upper layer would need the mounter's own id in the map), so
	// the upper is shifted when the guest's map changes and when a clone
	// freezes it into a snapshot (stored with the image's own ids, as the
	// idmapped lower layers expect).
	Stored plan.IDMap `json:"stored"`
}

const layerRecord = "layer.json"

// GuestLayerDir is a guest's layer directory (upper/, work/, layer.json).
func (s *Store) GuestLayerDir(guest string) string { return s.layout.GuestLayerDir(guest) }

// ReadGuestLayer returns guest's layer record; ok false when it has none.
func (s *Store) ReadGuestLayer(guest string) (GuestLayer, bool, error) {
	var g GuestLayer
	b, err := os.ReadFile(filepath.Join(s.GuestLayerDir(guest), layerRecord))
	if errors.Is(err, os.ErrNotExist) {
		return g, false, nil
	}
	if err != nil {
		return g, false, fmt.Errorf("guest %s: read layer record: %w", guest, err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return g, false, fmt.Errorf("guest %s: layer record: %w", guest, err)
	}
	return g, true, nil
}

// guestRecords reads every guest's layer record.
func (s *Store) guestRecords() ([]GuestLayer, error) {
	ents, err := os.ReadDir(s.layout.GuestLayersDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []GuestLayer
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		g, ok, err := s.ReadGuestLayer(e.Name())
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, g)
		}
	}
	return out, nil
}

// GuestsUsing lists the guests whose layer records were made from image id.
func (s *Store) GuestsUsing(id string) ([]string, error) {
	recs, err := s.guestRecords()
	var out []string
	for _, r := range recs {
		if r.ImageID == id {
			out = append(out, r.Guest)
		}
	}
	return out, err
}

// CreateGuestLayer makes guest's layer over lowers (top first): a
// directory with the record, upper/ and work/, made under a temporary name
// and renamed into place, so a layer directory is always whole. It fails
// with os.ErrExist when the guest has one.
func (s *Store) CreateGuestLayer(g GuestLayer) error { return CreateLayer(s.GuestLayerDir(g.Guest), g) }

// CreateLayer is CreateGuestLayer at dir (the supervisor has the plan's
// path, not the store).
func CreateLayer(dir string, g GuestLayer) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o711); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("guest %s: layer %s: %w", g.Guest, dir, os.ErrExist)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+g.Guest+".tmp")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o711); err != nil {
		return err
	}
	for _, d := range []string{"upper", "work"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, layerRecord), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Lstat(dir); serr == nil {
			return fmt.Errorf("guest %s: layer %s: %w", g.Guest, dir, os.ErrExist)
		}
		return fmt.Errorf("guest %s: create layer: %w", g.Guest, err)
	}
	return nil
}

// Claim makes the layer of guest's first start from an image (ov from
// Root, with ov.Fresh) under the store's lock. The layer's record is the
// guest's reference to the layers below it, which Remove and the sweep of
// unused layers honour: made before anything uses the layers, no image rm
// can take them from under the starting guest. An image removed since
// Root resolved it fails the claim. A layer made meanwhile (another start
// of the guest, which had its lock first) is taken as it is when it lies
// over the same layers, and ov.Fresh becomes false.
func (s *Store) Claim(guest string, ov *plan.Overlay, m plan.IDMap) error {
	l, err := s.lock()
	if err != nil {
		return err
	}
	defer l.Close()
	if _, err := os.Lstat(filepath.Join(ov.LayerDir, layerRecord)); err == nil {
		rec, err := ReadLayer(ov.LayerDir)
		if err != nil {
			return fmt.Errorf("guest %s: %w", guest, err)
		}
		if rec.ImageID != ov.ImageID || !slices.Equal(rec.Lowers, ov.Lowers) {
			return fmt.Errorf("guest %s: %w: its layer was made over other layers while this start was prepared: start it again", guest, errdefs.ErrAlreadyExists)
		}
		ov.Fresh = false
		return nil
	}
	for _, d := range ov.Lowers {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return fmt.Errorf("image %s: %w: removed while guest %s was starting (its layer %s is gone): import it again", ov.Image, errdefs.ErrNotFound, guest, d)
		}
	}
	return CreateLayer(ov.LayerDir, Record(guest, ov, m))
}

// RemoveGuestLayer removes guest's own layer, then whatever snapshot no
// other guest uses; the image's layers stay (image rm removes those).
func (s *Store) RemoveGuestLayer(guest string) error {
	l, err := s.lock()
	if err != nil {
		return err
	}
	defer l.Close()
	if err := RemoveLayer(s.GuestLayerDir(guest)); err != nil {
		return fmt.Errorf("guest %s: %w", guest, err)
	}
	ix, err := s.read()
	if err != nil {
		return err
	}
	return s.collect(ix)
}

// RemoveLayer is the package's RemoveLayer (launch.Images).
func (s *Store) RemoveLayer(dir string) error { return RemoveLayer(dir) }

// RemoveLayer removes the guest layer at dir, renamed first so that a
// half-removed layer never looks like one; a missing one is no error.
func RemoveLayer(dir string) error {
	gone := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".removing")
	if err := os.Rename(dir, gone); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove layer: %w", err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("remove layer: %w", err)
	}
	return nil
}

// WriteGuestLayer replaces the record of the layer at dir.
func WriteGuestLayer(dir string, g GuestLayer) error {
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(filepath.Join(dir, layerRecord), append(b, '\n'), 0o644)
}

// ReadLayer reads the record of the layer at dir.
func ReadLayer(dir string) (GuestLayer, error) {
	var g GuestLayer
	b, err := os.ReadFile(filepath.Join(dir, layerRecord))
	if err != nil {
		return g, fmt.Errorf("read layer record: %w", err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return g, fmt.Errorf("layer record %s: %w", dir, err)
	}
	return g, nil
}
