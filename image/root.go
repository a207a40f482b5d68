package image

import (
	"fmt"
	"os"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// Root resolves guest's root from image ref (plan.Images): the layers its
// own layer was made over when it has one, else the image's (and the
// supervisor makes the layer on the first start).
func (s *Store) Root(guest, ref string) (*plan.Overlay, error) {
	rec, ok, err := s.ReadGuestLayer(guest)
	if err != nil {
		return nil, err
	}
	ov := &plan.Overlay{Image: ref, LayerDir: s.GuestLayerDir(guest)}
	if ok {
		if rec.Image != ref {
			if im, err := s.Get(ref); err != nil || im.ID != rec.ImageID {
				return nil, fmt.Errorf("%w: guest %s's own layer was made over image %s, the XML now names %s: name %s again, or drop the layer (vmlite undefine --remove-storage %s)",
					errdefs.ErrInvalid, guest, rec.Image, ref, rec.Image, guest)
			}
		}
		ov.ImageID, ov.Lowers = rec.ImageID, rec.Lowers
	} else {
		im, err := s.Get(ref)
		if err != nil {
			return nil, err
		}
		ov.ImageID, ov.Lowers, ov.Fresh = im.ID, s.LowerDirs(im), true
		if len(ov.Lowers) == 0 {
			return nil, fmt.Errorf("%w: image %s has no layers", errdefs.ErrInvalid, ref)
		}
	}
	for _, d := range ov.Lowers {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("image %s: layer %s is missing from the store (removed?): import the image again", ref, d)
		}
	}
	return ov, nil
}

// Record is the layer record a fresh overlay's guest layer gets.
func Record(guest string, ov *plan.Overlay, m plan.IDMap) GuestLayer {
	return GuestLayer{Guest: guest, Image: ov.Image, ImageID: ov.ImageID, Lowers: ov.Lowers, Stored: plan.IDMap{UIDs: m.UIDs, GIDs: m.GIDs}}
}
