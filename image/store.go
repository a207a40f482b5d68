// Package image is vmlite's image store: OCI images (an image layout
// directory, a docker-archive tarball, a registry) and plain root
// filesystem tarballs, kept content-addressed under the state root, each
// layer extracted once as an overlayfs lower directory that every guest
// from the image shares read-only; and the guests' own layers above them.
//
// Layout (state.Layout.ImagesDir, /var/lib/vmlite/images):
//
//	index.json                 name -> image (config digest, layers, source)
//	configs/sha256/HEX.json    the image config, HEX its sha256 (the image id)
//	layers/sha256/HEX/         an extracted layer, HEX its uncompressed digest (diff_id)
//	snapshots/ID/              a frozen guest layer (vmlite clone), shared by its clones
//	tmp/                       extraction in progress (renamed into place when complete)
//	lock                       flock: one writer at a time
//
// Guests' own layers live beside it (state.Layout.GuestLayerDir):
// layers/NAME/{layer.json,upper,work}.
//
// Formats and the registry protocol come from go-containerregistry; the
// extraction (extract_linux.go) is vmlite's, because it must keep layers
// apart (the library flattens) and stay below the layer's root.
package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/state"
)

// Image is one entry of the store's index.
type Image struct {
	// Name is how the XML and the commands refer to it (<source name=>).
	Name string `json:"name"`
	// ID is the sha256 digest of its config ("sha256:HEX").
	ID string `json:"id"`
	// Layers are the diff_ids, bottom first.
	Layers []string `json:"layers"`
	// Source is where it came from (a path or a registry reference).
	Source string `json:"source"`
	// Format is oci-layout, docker-archive, registry or rootfs-tarball.
	Format string `json:"format"`
	// Imported is when it was stored.
	Imported time.Time `json:"imported"`
	// Size is the sum of its layers' uncompressed sizes.
	Size int64 `json:"size"`
}

// ShortID is the id's first 12 hex digits, docker's habit.
func (im Image) ShortID() string {
	h := strings.TrimPrefix(im.ID, "sha256:")
	return h[:min(12, len(h))]
}

type index struct {
	Images []Image `json:"images"`
}

// Store is the image store of one state layout.
type Store struct {
	layout state.Layout
	dir    string
}

// NewStore returns the store of layout l (nothing is created until a write).
func NewStore(l state.Layout) *Store { return &Store{layout: l, dir: l.ImagesDir()} }

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) indexFile() string { return filepath.Join(s.dir, "index.json") }
func (s *Store) tmpDir() string    { return filepath.Join(s.dir, "tmp") }

// LayerDir is where the layer with diff_id d is extracted.
func (s *Store) LayerDir(diffID string) string {
	return filepath.Join(s.dir, "layers", "sha256", strings.TrimPrefix(diffID, "sha256:"))
}

// ConfigFile is where the config of image id is kept.
func (s *Store) ConfigFile(id string) string {
	return filepath.Join(s.dir, "configs", "sha256", strings.TrimPrefix(id, "sha256:")+".json")
}

// SnapshotDir is the frozen guest layer id (vmlite clone).
func (s *Store) SnapshotDir(id string) string { return filepath.Join(s.dir, "snapshots", id) }

func (s *Store) ensure() error {
	for _, d := range []string{s.dir, s.tmpDir(), filepath.Join(s.dir, "layers", "sha256"), filepath.Join(s.dir, "configs", "sha256"), filepath.Join(s.dir, "snapshots")} {
		// 0711: a mapped guest's overlay reads the layers as host root, but
		// nobody needs to list them.
		if err := os.MkdirAll(d, 0o711); err != nil {
			return fmt.Errorf("create image store: %w", err)
		}
	}
	return nil
}

// lock takes the store's writer lock.
func (s *Store) lock() (*os.File, error) {
	if err := s.ensure(); err != nil {
		return nil, err
	}
	return state.Lock(filepath.Join(s.dir, "lock"))
}

// Lock holds the store's writer lock for the caller (a guest's start
// resolving its layers, so that no image rm runs in between); close the file
// to release it.
func (s *Store) Lock() (*os.File, error) { return s.lock() }

func (s *Store) read() (index, error) {
	var ix index
	b, err := os.ReadFile(s.indexFile())
	if errors.Is(err, os.ErrNotExist) {
		return ix, nil
	}
	if err != nil {
		return ix, fmt.Errorf("read image index: %w", err)
	}
	if err := json.Unmarshal(b, &ix); err != nil {
		return ix, fmt.Errorf("image index %s: %w", s.indexFile(), err)
	}
	return ix, nil
}

func (s *Store) write(ix index) error {
	sort.Slice(ix.Images, func(i, j int) bool { return ix.Images[i].Name < ix.Images[j].Name })
	b, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(s.indexFile(), append(b, '\n'), 0o644)
}

// List returns the stored images, by name.
func (s *Store) List() ([]Image, error) {
	ix, err := s.read()
	return ix.Images, err
}

// Get finds an image by name, by id ("sha256:HEX") or by a unique id
// prefix of at least 12 hex digits.
func (s *Store) Get(ref string) (Image, error) {
	ix, err := s.read()
	if err != nil {
		return Image{}, err
	}
	return find(ix, ref)
}

func find(ix index, ref string) (Image, error) {
	for _, im := range ix.Images {
		if im.Name == ref {
			return im, nil
		}
	}
	h := strings.TrimPrefix(ref, "sha256:")
	if len(h) >= 12 && isHex(h) {
		var hit []Image
		for _, im := range ix.Images {
			if strings.HasPrefix(strings.TrimPrefix(im.ID, "sha256:"), h) {
				hit = append(hit, im)
			}
		}
		if len(hit) >= 1 && allSameID(hit) {
			return hit[0], nil
		}
		if len(hit) > 1 {
			return Image{}, fmt.Errorf("image %q: %w: the id prefix matches several images; give more of it", ref, errdefs.ErrInvalid)
		}
	}
	return Image{}, fmt.Errorf("image %q: %w (vmlite image list shows the stored ones; vmlite image import or pull stores one)", ref, errdefs.ErrNotFound)
}

func allSameID(ims []Image) bool {
	for _, im := range ims {
		if im.ID != ims[0].ID {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s[:len(s)&^1])
	return err == nil
}

// Config returns the stored config of an image, verified against its id.
func (s *Store) Config(im Image) (*Config, error) {
	b, err := os.ReadFile(s.ConfigFile(im.ID))
	if err != nil {
		return nil, fmt.Errorf("image %s: read config: %w", im.Name, err)
	}
	if got := digestOf(b); got != im.ID {
		return nil, fmt.Errorf("image %s: config digest %s, want %s: the store is damaged (vmlite image rm %s, then import it again)", im.Name, got, im.ID, im.Name)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("image %s: config: %w", im.Name, err)
	}
	return &c, nil
}

// LowerDirs are the image's layer directories for overlayfs, top first.
func (s *Store) LowerDirs(im Image) []string {
	out := make([]string, 0, len(im.Layers))
	for i := len(im.Layers) - 1; i >= 0; i-- {
		out = append(out, s.LayerDir(im.Layers[i]))
	}
	return out
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// UsedBy says which guests use an image beyond those with a layer over it
// (defined guests whose XML names it, running ones); image rm asks it
// before removing.
type UsedBy func(im Image) ([]string, error)

// Remove deletes image ref (a name or an id) from the index, refused while
// a guest has a layer over it (a starting guest has one before it uses the
// image: Claim) or usedBy (nil: nobody else) names a guest, then removes
// the layers and configs no image, guest layer or snapshot uses any more.
// All of it under the store's lock.
func (s *Store) Remove(ref string, usedBy UsedBy) (Image, error) {
	l, err := s.lock()
	if err != nil {
		return Image{}, err
	}
	defer l.Close()
	ix, err := s.read()
	if err != nil {
		return Image{}, err
	}
	im, err := find(ix, ref)
	if err != nil {
		return Image{}, err
	}
	users, err := s.GuestsUsing(im.ID)
	if err != nil {
		return Image{}, err
	}
	if usedBy != nil {
		more, err := usedBy(im)
		if err != nil {
			return Image{}, err
		}
		users = append(users, more...)
	}
	if len(users) > 0 {
		slices.Sort(users)
		users = slices.Compact(users)
		return Image{}, fmt.Errorf("image %s: %w: used by guest %s: stop the running ones (a transient guest's layer goes with it) and remove the defined ones with their layers (vmlite undefine --remove-storage NAME), then remove the image",
			im.Name, errInUse, strings.Join(users, ", "))
	}
	ix.Images = slices.DeleteFunc(ix.Images, func(x Image) bool { return x.Name == im.Name })
	if err := s.write(ix); err != nil {
		return Image{}, err
	}
	return im, s.collect(ix)
}

var errInUse = fmt.Errorf("%w: in use", errdefs.ErrInvalid)

// collect removes the layers and configs that neither an image of ix nor a
// guest layer record refers to. Called with the lock held.
func (s *Store) collect(ix index) error {
	keepLayers := map[string]bool{}
	keepConfigs := map[string]bool{}
	for _, im := range ix.Images {
		keepConfigs[strings.TrimPrefix(im.ID, "sha256:")+".json"] = true
		for _, d := range im.Layers {
			keepLayers[s.LayerDir(d)] = true
		}
	}
	recs, err := s.guestRecords()
	if err != nil {
		return err
	}
	keepSnaps := map[string]bool{}
	for _, r := range recs {
		for _, d := range r.Lowers {
			keepLayers[d] = true
			keepSnaps[d] = true
		}
	}
	var errs []error
	sweep := func(dir string, keep func(path, base string) bool) {
		ents, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			if !keep(p, e.Name()) {
				if err := os.RemoveAll(p); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	sweep(filepath.Join(s.dir, "layers", "sha256"), func(p, _ string) bool { return keepLayers[p] })
	sweep(filepath.Join(s.dir, "configs", "sha256"), func(_, b string) bool { return keepConfigs[b] })
	sweep(filepath.Join(s.dir, "snapshots"), func(p, _ string) bool { return keepSnaps[p] })
	return errors.Join(errs...)
}

// add records im under its name (replacing an image of that name). Called
// with the lock held.
func (s *Store) add(im Image) error {
	ix, err := s.read()
	if err != nil {
		return err
	}
	ix.Images = slices.DeleteFunc(ix.Images, func(x Image) bool { return x.Name == im.Name })
	ix.Images = append(ix.Images, im)
	if err := s.write(ix); err != nil {
		return err
	}
	// The image this name pointed to before may be unused now.
	return s.collect(ix)
}

// CheckName refuses image names that could not appear in a <source name=>
// or on a command line unquoted: a registry reference's characters only.
func CheckName(name string) error {
	if name == "" || len(name) > 255 {
		return fmt.Errorf("image name %q: %w: want 1 to 255 characters", name, errdefs.ErrInvalid)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-:/@+", r)) {
			return fmt.Errorf("image name %q: %w: only letters, digits and . _ - : / @ + are allowed", name, errdefs.ErrInvalid)
		}
	}
	if strings.HasPrefix(name, "-") || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return fmt.Errorf("image name %q: %w: it may not start with - or / or contain \"..\"", name, errdefs.ErrInvalid)
	}
	return nil
}
