package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"vmlite/guestnet"
	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// InterfaceAddresses reads the addresses of running guest name's
// interfaces (those of its launch plan, or only iface), live from its
// network namespace: addresses the guest set itself (DHCP) are there too.
func (s *Service) InterfaceAddresses(ctx context.Context, name, iface string) ([]guestnet.IfaceAddr, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	a, err := s.interfaceAddresses(name, iface)
	return a, classify(onDomain, err)
}

func (s *Service) interfaceAddresses(name, iface string) ([]guestnet.IfaceAddr, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	l := s.layout
	st, err := state.Read(l.StateFile(name))
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(l.DomainFile(name)); err == nil {
			return nil, fmt.Errorf("guest %q: %w", name, errdefs.ErrNotRunning)
		}
		return nil, fmt.Errorf("guest %q: %w", name, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if st.InitPID <= 0 || st.Status != state.Running {
		return nil, fmt.Errorf("guest %q is %s: %w", name, st.Status, errdefs.ErrNotRunning)
	}
	b, err := os.ReadFile(l.PlanFile(name))
	if err != nil {
		return nil, fmt.Errorf("guest %q: read launch plan: %w", name, err)
	}
	p, err := plan.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("guest %q: %w", name, err)
	}
	var names []string
	for _, in := range p.Interfaces {
		if iface == "" || in.GuestName == iface {
			names = append(names, in.GuestName)
		}
	}
	if iface != "" && len(names) == 0 {
		return nil, fmt.Errorf("guest %q has no interface %q: %w", name, iface, errdefs.ErrNotFound)
	}
	if len(names) == 0 {
		return nil, nil // no interfaces of its own: nothing to list
	}
	return guestnet.GuestAddresses(st.InitPID, names)
}
