// Package layer is a guest's own copy-on-write layer on disk (its record,
// upper/ and work/): what a supervisor needs of the image store to run,
// shift and remove a guest's layer, without the store's registry client,
// compressors and TLS (package image), which the supervisor binary must
// not link (internal/deptest).
package layer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"vmlite/plan"
	"vmlite/state"
)

// Record is the record of a guest's own copy-on-write layer
// (state.Layout.GuestLayerDir(NAME)/layer.json): the lower directories its
// upper directory was made over, fixed when the layer was made, so that a
// new image under the same name (or a clone's snapshot) never slides under
// an existing guest's changes.
type Record struct {
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

// FileName is the record's file in a layer directory.
const FileName = "layer.json"

// Create makes a guest layer at dir: a directory with the record, upper/
// and work/, made under a temporary name and renamed into place, so a
// layer directory is always whole. It fails with os.ErrExist when dir
// exists.
func Create(dir string, g Record) error {
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
	if err := os.WriteFile(filepath.Join(tmp, FileName), append(b, '\n'), 0o644); err != nil {
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

// Remove removes the guest layer at dir, renamed first so that a
// half-removed layer never looks like one; a missing one is no error.
func Remove(dir string) error {
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

// Write replaces the record of the layer at dir.
func Write(dir string, g Record) error {
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(filepath.Join(dir, FileName), append(b, '\n'), 0o644)
}

// Read reads the record of the layer at dir.
func Read(dir string) (Record, error) {
	var g Record
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return g, fmt.Errorf("read layer record: %w", err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return g, fmt.Errorf("layer record %s: %w", dir, err)
	}
	return g, nil
}
