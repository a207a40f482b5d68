package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"vmlite/image/layer"
	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// GuestLayer is a guest layer's record (package layer, which the
// supervisor links without the store).
type GuestLayer = layer.Record

// GuestLayerDir is a guest's layer directory (upper/, work/, layer.json).
func (s *Store) GuestLayerDir(guest string) string { return s.layout.GuestLayerDir(guest) }

// ReadGuestLayer returns guest's layer record; ok false when it has none.
func (s *Store) ReadGuestLayer(guest string) (GuestLayer, bool, error) {
	var g GuestLayer
	b, err := os.ReadFile(filepath.Join(s.GuestLayerDir(guest), layer.FileName))
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
func (s *Store) CreateGuestLayer(g GuestLayer) error {
	return layer.Create(s.GuestLayerDir(g.Guest), g)
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
	if _, err := os.Lstat(filepath.Join(ov.LayerDir, layer.FileName)); err == nil {
		rec, err := layer.Read(ov.LayerDir)
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
	return layer.Create(ov.LayerDir, Record(guest, ov, m))
}

// RemoveGuestLayer removes guest's own layer, then whatever snapshot no
// other guest uses; the image's layers stay (image rm removes those).
func (s *Store) RemoveGuestLayer(guest string) error {
	l, err := s.lock()
	if err != nil {
		return err
	}
	defer l.Close()
	if err := layer.Remove(s.GuestLayerDir(guest)); err != nil {
		return fmt.Errorf("guest %s: %w", guest, err)
	}
	ix, err := s.read()
	if err != nil {
		return err
	}
	return s.collect(ix)
}

// RemoveLayer removes the guest layer at dir (layer.Remove; launch.Images).
func (s *Store) RemoveLayer(dir string) error { return layer.Remove(dir) }
