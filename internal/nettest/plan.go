package nettest

import (
	"net/netip"

	"vmlite/plan"
)

// Prefixes parses addresses with their prefix ("10.0.0.5/24") for a
// plan.Interface written by a test; it panics on a typo.
func Prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// MAC parses a MAC for a test's plan.Interface; it panics on a typo.
func MAC(s string) plan.MAC {
	m, err := plan.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Route is a route to dest ("" for the default route) via gw.
func Route(dest, gw string) plan.Route {
	r := plan.Route{Gateway: netip.MustParseAddr(gw)}
	if dest != "" {
		r.Dest = netip.MustParsePrefix(dest)
	}
	return r
}
