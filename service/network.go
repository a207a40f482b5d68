package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/netdef"
)

// Network is a managed network with its run state (Transient: made by
// CreateNetwork, with no stored definition).
type Network struct {
	*netdef.Network
	Active    bool
	Autostart bool
}

func (s *Service) network(n *netdef.Network) Network {
	return Network{Network: n, Active: netdef.Active(s.layout, n.Name), Autostart: netdef.Autostart(s.layout, n.Name)}
}

// DefineNetwork validates network XML data (named source in messages) and
// stores it, replacing a network of the same name.
func (s *Service) DefineNetwork(ctx context.Context, source string, data []byte) (*Network, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	n, err := netdef.Define(s.layout, source, data)
	if err != nil {
		return nil, classify(onNetwork, err)
	}
	s.emit(Event{Network: true, Name: n.Name, UUID: n.UUID, Type: EventDefined})
	r := s.network(n)
	return &r, nil
}

// CreateNetwork starts a transient network from network XML data (named
// source in messages): running, not defined, gone once destroyed
// (libvirt's virNetworkCreateXML, virsh net-create).
func (s *Service) CreateNetwork(ctx context.Context, source string, data []byte) (*Network, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	n, err := netdef.Create(s.layout, source, data)
	if err != nil {
		return nil, netClassify(err)
	}
	s.emit(Event{Network: true, Name: n.Name, UUID: n.UUID, Type: EventStarted})
	r := s.network(n)
	return &r, nil
}

// netClassify is classify for networks: what only a persistent network
// can do, tried on a transient one, is the wrong state for it, as in
// libvirt (OPERATION_INVALID), not a bad argument.
func netClassify(err error) error {
	if errors.Is(err, netdef.ErrTransient) {
		return &Error{Code: OperationInvalid, Err: err}
	}
	return classify(onNetwork, err)
}

// UndefineNetwork removes the definition of network name.
func (s *Service) UndefineNetwork(ctx context.Context, name string) error {
	if err := live(ctx); err != nil {
		return err
	}
	n, _ := netdef.Load(s.layout, name)
	if err := netdef.Undefine(s.layout, name); err != nil {
		return netClassify(err)
	}
	s.emitNetwork(n, name, EventUndefined)
	return nil
}

// StartNetwork starts network name: its bridge, forwarding and NAT,
// dnsmasq. A failed start undoes its steps.
func (s *Service) StartNetwork(ctx context.Context, name string) error {
	if err := live(ctx); err != nil {
		return err
	}
	if err := netdef.Start(s.layout, name); err != nil {
		return classify(onNetwork, err)
	}
	n, _ := netdef.Load(s.layout, name)
	s.emitNetwork(n, name, EventStarted)
	return nil
}

// DestroyNetwork stops network name and removes what its start made; a
// transient network is gone.
func (s *Service) DestroyNetwork(ctx context.Context, name string) error {
	if err := live(ctx); err != nil {
		return err
	}
	n, _ := netdef.Load(s.layout, name) // a transient one's UUID, for the event
	if err := netdef.Destroy(s.layout, name); err != nil {
		return classify(onNetwork, err)
	}
	s.emitNetwork(n, name, EventStopped)
	return nil
}

func (s *Service) emitNetwork(n *netdef.Network, name string, t EventType) {
	e := Event{Network: true, Name: name, Type: t}
	if n != nil {
		e.UUID = n.UUID
	}
	s.emit(e)
}

// Networks lists every defined network, sorted by name.
func (s *Service) Networks(ctx context.Context) ([]Network, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	ns, err := netdef.List(s.layout)
	if err != nil {
		return nil, classify(onNetwork, err)
	}
	out := make([]Network, 0, len(ns))
	for _, n := range ns {
		out = append(out, s.network(n))
	}
	return out, nil
}

// LookupNetwork returns network name.
func (s *Service) LookupNetwork(ctx context.Context, name string) (*Network, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	n, err := netdef.Load(s.layout, name)
	if err != nil {
		return nil, classify(onNetwork, err)
	}
	r := s.network(n)
	return &r, nil
}

// NetworkXML is network name's XML, as libvirt's net-dumpxml shows it:
// the definition an active network runs with, or with inactive the
// stored one, for its next start (a transient network has only the
// first).
func (s *Service) NetworkXML(ctx context.Context, name string, inactive bool) ([]byte, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	load := netdef.LoadLive
	if inactive {
		load = netdef.Load
	}
	n, err := load(s.layout, name)
	if err != nil {
		return nil, classify(onNetwork, err)
	}
	b, err := n.Marshal()
	return b, classify(onNetwork, err)
}

// SetNetworkAutostart marks (or unmarks) network name to start with
// StartAutostarted.
func (s *Service) SetNetworkAutostart(ctx context.Context, name string, on bool) error {
	if err := live(ctx); err != nil {
		return err
	}
	return netClassify(netdef.SetAutostart(s.layout, name, on))
}

// NetworkDHCPLeases returns the unexpired DHCP leases of network name's
// server (virsh net-dhcp-leases), those of MAC mac alone when it is set;
// an inactive network has none.
func (s *Service) NetworkDHCPLeases(ctx context.Context, name, mac string) (*Network, []netdef.Lease, error) {
	n, err := s.LookupNetwork(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	want := ""
	if mac != "" {
		hw, err := net.ParseMAC(mac)
		if err != nil {
			return nil, nil, classify(onNetwork, fmt.Errorf("%w: MAC address %q: %v", errdefs.ErrInvalid, mac, err))
		}
		want = hw.String()
	}
	if !n.Active {
		return n, nil, nil
	}
	ls, err := netdef.Leases(s.layout, name)
	if err != nil {
		return nil, nil, classify(onNetwork, err)
	}
	now := time.Now()
	var out []netdef.Lease
	for _, l := range ls {
		if (want == "" || l.MAC == want) && (l.Expiry.IsZero() || l.Expiry.After(now)) {
			out = append(out, l)
		}
	}
	return n, out, nil
}
