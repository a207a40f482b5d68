package guestnet

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/internal/nettest"
	"vmlite/plan"
)

func TestParseInterfaces(t *testing.T) {
	ok := plan.Interface{Type: TypeBridge, HostName: "vml-a-0", GuestName: "eth0", Bridge: "br0",
		MAC: nettest.MAC("52:54:00:12:34:56"), IPs: nettest.Prefixes("10.0.0.5/24", "fd00::5/64"),
		Routes:  []plan.Route{nettest.Route("", "10.0.0.1"), nettest.Route("fd01::/64", "fd00::1")},
		XMLPath: "/domain/devices/interface[1]"}
	with := func(f func(*plan.Interface)) []plan.Interface {
		in := ok
		f(&in)
		return []plan.Interface{in}
	}
	tests := []struct {
		name   string
		ifaces []plan.Interface
		err    string // "" = valid
	}{
		{"valid", []plan.Interface{ok}, ""},
		{"ethernet", with(func(i *plan.Interface) {
			i.Type, i.Bridge, i.HostIPs = TypeEthernet, "", nettest.Prefixes("10.0.0.1/24")
		}), ""},
		{"direct", with(func(i *plan.Interface) { i.Type, i.SourceDev, i.MacvlanMode = TypeDirect, "eth1", "bridge" }), ""},
		{"up without ip", with(func(i *plan.Interface) { i.IPs, i.Routes, i.LinkUp = nil, nil, true }), ""},
		{"type", with(func(i *plan.Interface) { i.Type = "user" }), `interface type "user"`},
		{"guest name", with(func(i *plan.Interface) { i.GuestName = "eth0:1" }), "guest name"},
		{"lo", with(func(i *plan.Interface) { i.GuestName = "lo" }), "loopback"},
		{"host name", with(func(i *plan.Interface) { i.HostName = "" }), "host name"},
		{"bridge name", with(func(i *plan.Interface) { i.Bridge = "a-very-long-bridge-name" }), "bridge"},
		{"network unstarted", with(func(i *plan.Interface) { i.Type, i.Network, i.Bridge = TypeNetwork, "default", "" }), `network "default" has no bridge`},
		{"source dev", with(func(i *plan.Interface) { i.Type, i.SourceDev = TypeDirect, "" }), "source device"},
		{"macvlan mode", with(func(i *plan.Interface) { i.Type, i.SourceDev, i.MacvlanMode = TypeDirect, "eth1", "vnet" }), "macvlan mode"},
		{"host ips", with(func(i *plan.Interface) { i.HostIPs = nettest.Prefixes("10.0.0.1/24") }), "need type ethernet"},
		{"multicast mac", with(func(i *plan.Interface) { i.MAC = nettest.MAC("01:00:5e:00:00:01") }), "multicast"},
		{"mtu", with(func(i *plan.Interface) { i.MTU = 20 }), "MTU 20"},
		// Text the builder or the plan's decoder refused cannot reach here;
		// what a plan written by hand can hold is checked.
		{"zero ip", with(func(i *plan.Interface) { i.IPs = []netip.Prefix{{}} }), "not an address with a prefix"},
		{"no gateway", with(func(i *plan.Interface) { i.Routes = []plan.Route{{}} }), "no gateway"},
		{"route family", with(func(i *plan.Interface) { i.Routes = []plan.Route{nettest.Route("10.1.0.0/16", "fd00::1")} }), "other address family"},
		{"route on down link", with(func(i *plan.Interface) { i.IPs, i.LinkUp = nil, false }), "routes need the link up"},
		{"duplicate guest name", []plan.Interface{ok, ok}, `guest interface name "eth0" used twice`},
		{"duplicate host name", []plan.Interface{ok, func() plan.Interface { i := ok; i.GuestName = "eth1"; return i }()}, `host interface name "vml-a-0" used twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs, err := parseInterfaces(tt.ifaces)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("parseInterfaces: %v", err)
				}
				if len(specs) != len(tt.ifaces) {
					t.Fatalf("got %d specs for %d interfaces", len(specs), len(tt.ifaces))
				}
				return
			}
			if err == nil {
				t.Fatalf("parseInterfaces accepted it, want an error containing %q", tt.err)
			}
			if !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "interface /domain/devices/interface[1]: ") {
				t.Errorf("error %q: want prefix %q and %q", err, "interface /domain/devices/interface[1]: ", tt.err)
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestParseInterfaceValues(t *testing.T) {
	specs, err := parseInterfaces([]plan.Interface{{Type: TypeBridge, HostName: "h", GuestName: "eth0", Bridge: "br0",
		IPs: nettest.Prefixes("10.0.0.5/24"), Routes: []plan.Route{nettest.Route("", "10.0.0.1"), nettest.Route("fd01::/64", "fd00::1")}}})
	if err != nil {
		t.Fatal(err)
	}
	s := specs[0]
	if !s.up {
		t.Errorf("an interface with addresses is not brought up")
	}
	if got := s.ips[0].String(); got != "10.0.0.5/24" {
		t.Errorf("address parsed as %s, want the host address 10.0.0.5/24", got)
	}
	if s.routes[0].dst != nil || s.routes[0].v6 || s.routes[1].dst.String() != "fd01::/64" || !s.routes[1].v6 {
		t.Errorf("routes parsed as %+v", s.routes)
	}
	if s.where() != "eth0" {
		t.Errorf("where() without an XML path = %q, want the guest name", s.where())
	}
}

// FuzzParseInterfaces checks that parseInterfaces never panics and that what
// it accepts is consistent: valid names, addresses, routes only on an
// interface that comes up. The text fields go through the plan's own
// decoders (as a plan read from JSON does); what they refuse is skipped.
func FuzzParseInterfaces(f *testing.F) {
	f.Add("bridge", "eth0", "vml-a-0", "br0", "52:54:00:12:34:56", "10.0.0.5/24", "", "10.0.0.1", 1500, false)
	f.Add("direct", "eth1", "", "", "", "fd00::5/64", "fd01::/64", "fd00::1", 0, true)
	f.Fuzz(func(t *testing.T, typ, guest, host, br, mac, ip, dest, gw string, mtu int, up bool) {
		in := plan.Interface{Type: typ, GuestName: guest, HostName: host, Bridge: br, SourceDev: br, MTU: mtu, LinkUp: up,
			IPs: make([]netip.Prefix, 1), Routes: make([]plan.Route, 1)}
		if in.MAC.UnmarshalText([]byte(mac)) != nil || in.IPs[0].UnmarshalText([]byte(ip)) != nil ||
			in.Routes[0].Dest.UnmarshalText([]byte(dest)) != nil || in.Routes[0].Gateway.UnmarshalText([]byte(gw)) != nil {
			return
		}
		specs, err := parseInterfaces([]plan.Interface{in})
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		s := specs[0]
		if ValidLinkName(s.GuestName) != nil || len(s.ips) != 1 || !s.up || len(s.routes) != 1 || s.routes[0].gw == nil {
			t.Fatalf("accepted an inconsistent interface: %+v", s)
		}
	})
}
