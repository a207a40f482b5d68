package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/internal/errdefs"
)

// storedGuest is a guest's stored definition, edited by --config.
type storedGuest struct {
	store *domain.Store
	dom   *domain.Domain
}

func loadStored(app *App, name string) (*storedGuest, error) {
	s := domain.NewStore(app.Layout)
	d, err := s.Load(name)
	if err != nil {
		return nil, err
	}
	return &storedGuest{store: s, dom: d}, nil
}

// check parses the edited definition again, so that a change the XML rules
// refuse (soft_limit above hard_limit, ...) is reported, with its path, before
// anything is written or applied.
func (g *storedGuest) check() error {
	b, err := g.dom.Marshal()
	if err != nil {
		return err
	}
	_, _, err = domain.Parse(g.dom.File, b)
	return err
}

func (g *storedGuest) save() error {
	if err := g.check(); err != nil {
		return err
	}
	return g.store.Save(g.dom)
}

// x is the definition's libvirt structs.
func (g *storedGuest) x() *libvirtxml.Domain { return g.dom.XML }

// bytesOf reads a libvirt size element; nil is 0 (not set).
func bytesOf(v *libvirtxml.DomainMemoryTuneLimit) uint64 {
	if v == nil {
		return 0
	}
	b, _ := domain.ScaledBytes(v.Value, v.Unit) // validated when stored
	return b
}

// limitIn is a <memtune> limit of b bytes, in KiB; 0 removes it.
func limitIn(b uint64) *libvirtxml.DomainMemoryTuneLimit {
	if b == 0 {
		return nil
	}
	return &libvirtxml.DomainMemoryTuneLimit{Value: b / 1024, Unit: "KiB"}
}

// scope is virsh's --live/--config/--current choice.
type scope struct {
	live, config, current bool
}

func (s *scope) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&s.live, "live", false, "affect the running guest")
	fl.BoolVar(&s.config, "config", false, "affect the stored definition, for the next start")
	fl.BoolVar(&s.current, "current", false, "affect the running guest if it runs, else the stored definition (the default)")
}

// targets returns what to read or change for guest name: the running guest,
// the stored definition, or both (--live --config).
func (s *scope) targets(app *App, name string) (live *runningGuest, stored *storedGuest, err error) {
	if s.current && (s.live || s.config) {
		return nil, nil, userErrorf("--current excludes --live and --config")
	}
	if !s.live && !s.config {
		live, err = loadRunning(app, name)
		if err == nil {
			return live, nil, nil
		}
		if !errors.Is(err, errdefs.ErrNotRunning) {
			return nil, nil, err
		}
		stored, err = loadStored(app, name)
		if errors.Is(err, errdefs.ErrNotFound) {
			return nil, nil, fmt.Errorf("guest %q neither runs nor is defined: %w", name, errdefs.ErrNotFound)
		}
		return nil, stored, err
	}
	if s.live {
		if live, err = loadRunning(app, name); err != nil {
			return nil, nil, err
		}
	}
	if s.config {
		if stored, err = loadStored(app, name); err != nil {
			return nil, nil, err
		}
	}
	return live, stored, nil
}
