package domain

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"vmlite/internal/errdefs"
	vuuid "vmlite/internal/uuid"
	"vmlite/state"
)

// Store keeps persistent definitions, one NAME.xml per guest under
// state.Layout.DomainsDir(), each written atomically (temp file, fsync,
// rename). Names and UUIDs are unique across the store.
//
// A Store does no locking of its own: define and undefine are rare and
// quick, and each write is atomic, so concurrent CLI calls cannot leave a
// torn file; two racing defines of the same UUID under different names can
// both succeed (the later one wins nothing: both files stay valid).
type Store struct {
	layout state.Layout
}

// NewStore returns the store of layout l.
func NewStore(l state.Layout) *Store { return &Store{layout: l} }

// CheckName refuses guest names that libvirt refuses or that cannot be
// file names of the store (ErrInvalid).
func CheckName(name string) error {
	if err := isDomainName(name); err != nil {
		return fmt.Errorf("%w: guest name %q: %v", errdefs.ErrInvalid, name, err)
	}
	return nil
}

// Load reads and validates the stored definition of name. An unknown name
// wraps errdefs.ErrNotFound.
func (s *Store) Load(name string) (*Domain, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	p := s.layout.DomainFile(name)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("guest %q: %w (no definition; vmlite define FILE stores one)", name, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read definition of %q: %w", name, err)
	}
	d, _, err := Parse(p, b)
	if err != nil {
		return nil, fmt.Errorf("stored definition of %q: %w", name, err)
	}
	return d, nil
}

// DefinitionMode is the mode of stored definitions.
const DefinitionMode = 0o600

// Save stores d under its name. Redefining an existing name replaces its
// definition (as virsh define does) and keeps the stored uuid when d has
// none; another uuid for that name, or the uuid of another guest, is
// errdefs.ErrAlreadyExists (as libvirt). A new definition without uuid
// gets a random one. Save sets d.XML.UUID to the
// uuid it stored.
func (s *Store) Save(d *Domain) error {
	name := d.XML.Name
	if err := CheckName(name); err != nil {
		return err
	}
	if err := os.MkdirAll(s.layout.DomainsDir(), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", s.layout.DomainsDir(), err)
	}
	uuid := ""
	if d.XML.UUID != "" {
		var err error
		if uuid, err = ParseUUID(d.XML.UUID); err != nil {
			return fmt.Errorf("%w: guest %q: uuid %q: %v", errdefs.ErrInvalid, name, d.XML.UUID, err)
		}
	}
	if old, err := s.Load(name); err == nil {
		ou, _ := ParseUUID(old.XML.UUID)
		switch {
		case uuid == "":
			uuid = old.XML.UUID
		case ou != "" && ou != uuid:
			// libvirt refuses this too: the uuid is the guest's identity
			// (MACs, managed addresses and tools follow it).
			return fmt.Errorf("guest %q is already defined with uuid %s: %w (keep that uuid, leave <uuid> out, or undefine %s first)", name, ou, errdefs.ErrAlreadyExists, name)
		}
	} else if !errors.Is(err, errdefs.ErrNotFound) {
		return err
	}
	if uuid == "" {
		uuid = vuuid.New()
	} else if err := s.uuidFree(name, uuid); err != nil {
		// A uuid made here is random (122 bits, as libvirt's): only one
		// given in the XML can be another guest's, and the check reads
		// every definition (vmlite clone, a new uuid each time among
		// hundreds of guests).
		return err
	}
	saved := *d
	x := *d.XML
	x.UUID = uuid
	saved.XML = &x
	b, err := saved.Marshal()
	if err != nil {
		return err
	}
	// Never store what Load would refuse (a Domain edited in code, not parsed).
	if _, _, err := Parse(s.layout.DomainFile(name), b); err != nil {
		return fmt.Errorf("definition of %q: %w", name, err)
	}
	// 0600, as libvirt keeps them: a definition may hold secrets
	// (<initenv> passwords); the rename gives an older 0644 file the mode.
	if err := state.WriteFileAtomic(s.layout.DomainFile(name), b, DefinitionMode); err != nil {
		return fmt.Errorf("store definition of %q: %w", name, err)
	}
	d.XML.UUID = uuid
	return nil
}

// uuidFree refuses uuid when a guest other than name has it.
func (s *Store) uuidFree(name, uuid string) error {
	others, err := s.Identities()
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.Name != name && o.UUID == uuid {
			return fmt.Errorf("guest %q: uuid %s: %w: guest %q has it", name, uuid, errdefs.ErrAlreadyExists, o.Name)
		}
	}
	return nil
}

// Delete removes the definition of name (ErrNotFound if there is none).
// It checks only that name is a file name in the store, so that a
// definition under a name an older version allowed can still go.
func (s *Store) Delete(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%w: %q is not a guest name", errdefs.ErrInvalid, name)
	}
	err := os.Remove(s.layout.DomainFile(name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("guest %q: %w", name, errdefs.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("remove definition of %q: %w", name, err)
	}
	return nil
}

// List returns the names of the stored definitions, sorted.
func (s *Store) List() ([]string, error) {
	entries, err := os.ReadDir(s.layout.DomainsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list definitions: %w", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		// Skip temp files of WriteFileAtomic (".NAME.xml.tmp123").
		if e.IsDir() || strings.HasPrefix(n, ".") || filepath.Ext(n) != ".xml" {
			continue
		}
		names = append(names, strings.TrimSuffix(n, ".xml"))
	}
	sort.Strings(names)
	return names, nil
}
