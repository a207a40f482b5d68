package domain

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"libvirt.org/go/libvirtxml"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// Identity is what a new definition is checked against in the others:
// the uuid (unique in the store) and the host id map (clones and
// templates pick a free range).
type Identity struct {
	Name string
	// UUID is canonical; "" when the definition has none it could parse.
	UUID  string
	IDMap *libvirtxml.DomainIDMap
}

// Identities reads the uuid and id map of every stored definition. Save
// stores only what Parse accepts, so these two elements are read without
// the strict pass: a full Load of every definition made each define (and
// each vmlite clone) cost one parse per stored guest (bench/README.md,
// "Images and clones"). A definition that does not read so (edited by
// hand) gets a full Load; one Load refuses holds nothing and is left out.
func (s *Store) Identities() ([]Identity, error) {
	names, err := s.List()
	if err != nil || len(names) == 0 {
		return nil, err
	}
	r, err := openDefinitions(s.layout.DomainsDir())
	if err != nil {
		return nil, err
	}
	defer r.close()
	out := make([]Identity, 0, len(names))
	for _, n := range names {
		if id, ok := s.identity(n, r); ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// IDMaps are the host id maps of every stored definition that has one
// (Identities): the ranges a new guest's map must stay out of
// (uidmap.FreeTarget).
func (s *Store) IDMaps() ([]plan.IDMap, error) {
	ids, err := s.Identities()
	if err != nil {
		return nil, err
	}
	var out []plan.IDMap
	for _, d := range ids {
		if d.IDMap == nil {
			continue
		}
		var m plan.IDMap
		for _, r := range d.IDMap.UIDs {
			m.UIDs = append(m.UIDs, plan.IDRange{Start: uint32(r.Start), Target: uint32(r.Target), Count: uint32(r.Count)})
		}
		for _, r := range d.IDMap.GIDs {
			m.GIDs = append(m.GIDs, plan.IDRange{Start: uint32(r.Start), Target: uint32(r.Target), Count: uint32(r.Count)})
		}
		out = append(out, m)
	}
	return out, nil
}

// Identity reads the uuid and id map of stored definition name as
// Identities does (a lookup needs the uuid of a guest that never ran,
// which only its definition holds); ErrNotFound when there is none.
func (s *Store) Identity(name string) (Identity, error) {
	if err := CheckName(name); err != nil {
		return Identity{}, err
	}
	b, err := os.ReadFile(s.layout.DomainFile(name))
	if errors.Is(err, fs.ErrNotExist) {
		return Identity{}, fmt.Errorf("guest %q is not defined: %w", name, errdefs.ErrNotFound)
	}
	if err != nil {
		return Identity{}, err
	}
	if id, ok := storedIdentity(name, b); ok {
		return id, nil
	}
	if id, ok := xmlIdentity(name, b); ok {
		return id, nil
	}
	d, err := s.Load(name)
	if err != nil {
		return Identity{}, err
	}
	u, _ := ParseUUID(d.XML.UUID)
	return Identity{Name: name, UUID: u, IDMap: d.XML.IDMap}, nil
}

func (s *Store) identity(name string, r *definitionReader) (Identity, bool) {
	if b, err := r.read(name + ".xml"); err == nil {
		if id, ok := storedIdentity(name, b); ok {
			return id, true
		}
		if id, ok := xmlIdentity(name, b); ok {
			return id, true
		}
	}
	d, err := s.Load(name)
	if err != nil {
		return Identity{}, false
	}
	u, _ := ParseUUID(d.XML.UUID)
	return Identity{Name: name, UUID: u, IDMap: d.XML.IDMap}, true
}

// storedIdentity reads the identity of a definition as Save writes it
// (Marshal's output: <name> and <uuid> its first children, each child of
// <domain> indented by two spaces, every "<" in text escaped) without an
// XML parser: a byte search, the cost of a define being one such read per
// stored guest. Anything else (no such head, <metadata>, whose content is
// copied raw) is not ok, and goes to xmlIdentity.
func storedIdentity(name string, b []byte) (Identity, bool) {
	head := "<domain type=\"lxc\">\n  <name>" + name + "</name>\n  <uuid>"
	if !bytes.HasPrefix(b, []byte(head)) || bytes.Contains(b, []byte("<metadata")) {
		return Identity{}, false
	}
	rest := b[len(head):]
	i := bytes.Index(rest, []byte("</uuid>\n"))
	if i < 0 {
		return Identity{}, false
	}
	u, err := ParseUUID(string(rest[:i]))
	if err != nil {
		return Identity{}, false
	}
	id := Identity{Name: name, UUID: u}
	const open, end = "\n  <idmap>", "\n  </idmap>"
	// An <idmap> in any other form (not indented as Save writes it, or
	// more than one) is not Save's output: encoding/xml reads it (the
	// fuzzer found an unindented one the search took for none).
	j := bytes.Index(b, []byte(open))
	if n := bytes.Count(b, []byte("<idmap")); n > 1 || (n == 1 && j < 0) {
		return Identity{}, false
	}
	if j >= 0 {
		k := bytes.Index(b[j:], []byte(end))
		if k < 0 || bytes.Contains(b[j+len(open):], []byte(open)) {
			return Identity{}, false
		}
		var m libvirtxml.DomainIDMap
		if err := xml.Unmarshal(b[j+1:j+k+len(end)], &m); err != nil {
			return Identity{}, false
		}
		id.IDMap = &m
	}
	return id, true
}

// xmlIdentity reads the identity with encoding/xml, without the strict
// pass; not ok for what it cannot read (another charset), which goes to
// a full Load.
func xmlIdentity(name string, b []byte) (Identity, bool) {
	var x struct {
		XMLName xml.Name                `xml:"domain"`
		UUID    string                  `xml:"uuid"`
		IDMap   *libvirtxml.DomainIDMap `xml:"idmap"`
	}
	if !bytes.HasPrefix(b, []byte("<domain")) || xml.Unmarshal(b, &x) != nil {
		return Identity{}, false
	}
	u, _ := ParseUUID(x.UUID)
	return Identity{Name: name, UUID: u, IDMap: x.IDMap}, true
}
