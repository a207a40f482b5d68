package guestnet

import (
	"fmt"

	"github.com/vishvananda/netns"

	"vmlite/internal/errdefs"
)

// moveHostLink moves the host link SourceDev into the guest's namespace
// (<hostdev mode='capabilities' type='net'>, as libvirt's LXC driver does).
// Its undo moves it back to the host's namespace under its own name
// (whatever the guest renamed it to): a virtual link (dummy, veth) would
// die with the guest's namespace, and a physical one must be usable again
// at once. The guest handle, which Setup keeps until undo, keeps the
// namespace alive for that even after the guest's last process is gone.
func (e *setupEnv) moveHostLink(s *ifaceSpec) error {
	link, err := e.host.LinkByName(s.SourceDev)
	if err != nil {
		if gone(err) {
			return s.errorf("host interface %q does not exist: %w", s.SourceDev, errdefs.ErrNotFound)
		}
		return s.errorf("find host interface %q: %w", s.SourceDev, err)
	}
	self, err := netns.Get()
	if err != nil {
		return s.errorf("open own network namespace: %w", err)
	}
	if err := e.host.LinkSetDown(link); err != nil {
		self.Close()
		return s.errorf("host interface %s down: %w", s.SourceDev, err)
	}
	if err := e.host.LinkSetNsFd(link, int(e.ns)); err != nil {
		self.Close()
		return s.errorf("move %s into the guest: %w", s.SourceDev, err)
	}
	l, err := e.guest.LinkByName(s.SourceDev)
	if err != nil {
		self.Close()
		return s.errorf("find %s in the guest: %w", s.SourceDev, err)
	}
	guest, host, name, index := e.guest, e.host, s.SourceDev, l.Attrs().Index
	e.undo.Add("move "+name+" back to the host", func() error {
		l, err := guest.LinkByIndex(index)
		if err != nil {
			if gone(err) {
				self.Close()
				return nil // a physical link the kernel has given back already
			}
			return fmt.Errorf("find %s in the guest: %w", name, err)
		}
		_ = guest.LinkSetDown(l)
		if err := guest.LinkSetNsFd(l, int(self)); err != nil {
			return fmt.Errorf("move %s back to the host: %w", name, err)
		}
		self.Close()
		if l.Attrs().Name != name {
			if hl, err := host.LinkByName(l.Attrs().Name); err == nil {
				if err := host.LinkSetName(hl, name); err != nil {
					return fmt.Errorf("rename %s back to %s: %w", l.Attrs().Name, name, err)
				}
			}
		}
		return nil
	})
	return nil
}
