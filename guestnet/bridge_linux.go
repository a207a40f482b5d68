package guestnet

import (
	"fmt"

	"github.com/vishvananda/netlink"

	"vmlite/internal/errdefs"
)

// joinBridge makes the host end of s a port of its bridge. A missing bridge
// is the user's to fix (a typo, or a network not started): the error names
// the bridge and the interface's XML path and wraps errdefs.ErrNotFound.
// Leaving the bridge needs no undo: deleting the veth does it.
func (e *setupEnv) joinBridge(s *ifaceSpec, host netlink.Link) error {
	br, err := e.host.LinkByName(s.Bridge)
	if err != nil {
		if gone(err) {
			what := fmt.Sprintf("bridge %q", s.Bridge)
			if s.Type == TypeNetwork {
				what = fmt.Sprintf("bridge %q of network %q", s.Bridge, s.Network)
			}
			return s.errorf("%s does not exist: %w", what, errdefs.ErrNotFound)
		}
		return s.errorf("find bridge %q: %w", s.Bridge, err)
	}
	if _, ok := br.(*netlink.Bridge); !ok {
		return s.errorf("%w: %q is a %s link, not a bridge", errdefs.ErrInvalid, s.Bridge, br.Type())
	}
	if err := e.host.LinkSetMasterByIndex(host, br.Attrs().Index); err != nil {
		return s.errorf("add %s to bridge %s: %w", s.HostName, s.Bridge, err)
	}
	return nil
}
