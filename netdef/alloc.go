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

// allocations is the content of NAME.addresses.json: the address given to
// each guest interface, known by the guest's UUID and the interface's MAC
// (a guest with two interfaces on one network gets two addresses).
type allocations struct {
	Entries []allocation `json:"addresses"`
}

type allocation struct {
	UUID string `json:"uuid"`
	MAC  string `json:"mac"`
	IP   string `json:"ip"`
}

func readAllocations(path string) (*allocations, error) {
	a := &allocations{}
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
// configuration is stable).
func (n *Network) dhcpHosts(a *allocations) []DHCPHost {
	c := n.IPv4()
	if c == nil {
		return nil
	}
	hosts := append([]DHCPHost(nil), c.Hosts...)
	es := append([]allocation(nil), a.Entries...)
	sort.Slice(es, func(i, j int) bool { return es[i].UUID+es[i].MAC < es[j].UUID+es[j].MAC })
	for _, g := range es {
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
