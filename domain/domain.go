// Package domain reads libvirt LXC domain XML (<domain type='lxc'>) strictly.
//
// STUB: the real parser (strict pass, validation, FieldError with lines) is
// being written; this file fixes the API the rest of vmlite builds on.
package domain

import (
	"fmt"
	"os"
	"time"

	"libvirt.org/go/libvirtxml"
)

// Domain is a parsed, validated domain definition.
type Domain struct {
	// XML holds libvirt's wire structs; vmlite reads them after validation.
	XML *libvirtxml.Domain
	// Meta holds vmlite's own settings from <metadata><vmlite:config>.
	Meta Meta
	// File is where the definition came from ("" for stdin/inline).
	File string
}

// Meta are vmlite-only settings, kept in a namespaced <metadata> child so that
// the file stays valid libvirt XML.
type Meta struct {
	Hostname          string        // explicit hostname instead of the sanitised name
	PidsMax           int64         // pids limit; 0 = vmlite's default
	StopSignal        string        // override of the detected init's poweroff signal
	StopTimeout       time.Duration // default graceful stop timeout
	AllowIDMapOverlap bool          // allow idmap ranges that overlap another guest's
}

// Warning is something vmlite accepts but does not act on.
type Warning struct {
	File string
	Line int
	Path string
	Msg  string
}

func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s: %s", w.File, w.Line, w.Path, w.Msg) }

// ParseFile reads and validates path.
func ParseFile(path string) (*Domain, []Warning, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read domain XML: %w", err)
	}
	return Parse(path, b)
}

// Parse reads and validates a domain; file names the source in messages.
func Parse(file string, data []byte) (*Domain, []Warning, error) {
	var x libvirtxml.Domain
	if err := x.Unmarshal(string(data)); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return &Domain{XML: &x, File: file}, nil, nil
}

// Marshal writes the domain back as XML.
func (d *Domain) Marshal() ([]byte, error) {
	s, err := d.XML.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal domain: %w", err)
	}
	return []byte(s), nil
}
