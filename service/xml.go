package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/state"
)

// DumpXML is the libvirt-normalised XML of guest name: the live XML of a
// running guest (with its id and consoles), else, or with inactive, the
// stored definition.
func (s *Service) DumpXML(ctx context.Context, name string, inactive bool) ([]byte, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	b, err := s.dumpXML(name, inactive)
	return b, classify(onDomain, err)
}

func (s *Service) dumpXML(name string, inactive bool) ([]byte, error) {
	if err := domain.CheckName(name); err != nil {
		return nil, err
	}
	l := s.layout
	if !inactive {
		path := l.LiveXML(name)
		b, err := os.ReadFile(path)
		if err == nil {
			d, _, err := domain.Parse(path, b)
			if err != nil {
				return nil, fmt.Errorf("live XML of %q: %w", name, err)
			}
			var lv *domain.Live
			if st, err := state.Read(l.StateFile(name)); err == nil && st.Status == state.Running {
				lv = &domain.Live{ID: st.InitPID, ConsolePTYs: st.ConsolePTYs}
			}
			return d.LibvirtXML(lv)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read live XML of %q: %w", name, err)
		}
	}
	d, err := domain.NewStore(l).Load(name)
	if err != nil {
		if inactive && errors.Is(err, errdefs.ErrNotFound) {
			if _, serr := os.Stat(l.LiveXML(name)); serr == nil {
				return nil, fmt.Errorf("guest %q is transient: %w: it has no stored definition (drop --inactive)", name, errdefs.ErrNotFound)
			}
		}
		return nil, err
	}
	return d.LibvirtXML(nil)
}
