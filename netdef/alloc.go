package netdef

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sort"
	"strings"

	"vmlite/internal/errdefs"
	"vmlite/state"
)

// maxScan bounds the search for a free address, so that a /8 network does not
// make a guest start walk 16 million candidates.
const maxScan = 1 << 16

// allocations is the content of NAME.addresses.json: the address each guest
// (by UUID) was given, and the MAC it was given for.
type allocations struct {
	Guests map[string]allocation `json:"guests"`
}

type allocation struct {
	IP  string `json:"ip"`
	MAC string `json:"mac"`
}

func readAllocations(path string) (*allocations, error) {
	a := &allocations{Guests: map[string]allocation{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read address records: %w", err)
	}
	if err := json.Unmarshal(b, a); err != nil {
		return nil, fmt.Errorf("address records %s: %w", path, err)
	}
	if a.Guests == nil {
		a.Guests = map[string]allocation{}
	}
	return a, nil
}

func (a *allocations) write(path string) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return fmt.Errorf("encode address records: %w", err)
	}
	return state.WriteFileAtomic(path, append(b, '\n'), 0o644)
}

// dhcpHosts returns every fixed assignment the DHCP server must know: the
// XML's <host> entries, then the allocations (sorted, so that the server's
// command line is stable).
func (n *Network) dhcpHosts(a *allocations) []DHCPHost {
	c := n.IPv4()
	if c == nil {
		return nil
	}
	hosts := append([]DHCPHost(nil), c.Hosts...)
	uuids := make([]string, 0, len(a.Guests))
	for u := range a.Guests {
		uuids = append(uuids, u)
	}
	sort.Strings(uuids)
	for _, u := range uuids {
		g := a.Guests[u]
		mac, err := net.ParseMAC(g.MAC)
		ip := net.ParseIP(g.IP).To4()
		if err != nil || ip == nil {
			continue // written by us; a damaged entry only loses its DHCP reservation
		}
		hosts = append(hosts, DHCPHost{MAC: mac, IP: ip})
	}
	return hosts
}

// pickAddress chooses a free address of c for a new guest. Taken holds
// addresses already given (allocations, <host> entries); leased those the
// DHCP server has handed out. Addresses outside the DHCP ranges come first,
// since no DHCP client can hold them; inside a range, an address is free
// when it is neither taken nor leased (once recorded it becomes a DHCP
// reservation, which the server never hands to anyone else).
func pickAddress(c *IPConfig, taken, leased map[string]bool) (net.IP, error) {
	base := binary.BigEndian.Uint32(c.Net.IP.To4())
	last := binary.BigEndian.Uint32(broadcast(c.Net))
	free := func(ip net.IP) bool {
		return !ip.Equal(c.Address) && !taken[ip.String()] && !leased[ip.String()]
	}
	var inRanges net.IP
	for i, v := 0, base+1; v < last && i < maxScan; i, v = i+1, v+1 {
		ip := make(net.IP, 4)
		binary.BigEndian.PutUint32(ip, v)
		if !free(ip) {
			continue
		}
		in := false
		for _, r := range c.Ranges {
			in = in || inRange(ip, r)
		}
		if !in {
			return ip, nil
		}
		if inRanges == nil {
			inRanges = ip
		}
	}
	if inRanges != nil {
		return inRanges, nil
	}
	return nil, fmt.Errorf("no free address left in %s", c.Net)
}

// parseLeases reads dnsmasq's lease file ("expiry mac ip name clientid" per
// line) and returns the leased addresses by MAC.
func parseLeases(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && net.ParseIP(f[2]) != nil {
			out[strings.ToLower(f[1])] = f[2]
		}
	}
	return out
}

// checkAllocRequest checks AllocateAddress's arguments.
func (n *Network) checkAllocRequest(guestUUID, mac string) (net.HardwareAddr, error) {
	if n.IPv4() == nil {
		return nil, fmt.Errorf("%w: network %s has no IPv4 address to give guests", errdefs.ErrInvalid, n.Name)
	}
	if guestUUID == "" {
		return nil, fmt.Errorf("%w: allocate address on network %s: empty guest UUID", errdefs.ErrInvalid, n.Name)
	}
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return nil, fmt.Errorf("%w: allocate address on network %s: MAC %q", errdefs.ErrInvalid, n.Name, mac)
	}
	return hw, nil
}
