package netdef

import (
	"bufio"
	"bytes"
	"net"
	"strconv"
	"strings"
	"time"
)

// Lease is one DHCP lease the network's server handed out (virsh
// net-dhcp-leases).
type Lease struct {
	// Expiry is when the lease ends; zero for an infinite one.
	Expiry   time.Time
	MAC      string
	IP       net.IP
	Hostname string // "" when the client sent none
	ClientID string // "" when the client sent none
}

// parseLeaseFile reads dnsmasq's lease file: an IPv4 lease per line,
// "EXPIRY MAC IP HOSTNAME CLIENTID" with "*" for a missing name or id
// and an expiry of 0 for an infinite lease. IPv6 lines (after dnsmasq's
// "duid" line, with an IAID where the MAC is) and damaged lines are left
// out.
func parseLeaseFile(data []byte) []Lease {
	var out []Lease
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] == "duid" {
			continue
		}
		secs, err := strconv.ParseInt(f[0], 10, 64)
		mac, merr := net.ParseMAC(f[1])
		ip := net.ParseIP(f[2]).To4()
		if err != nil || secs < 0 || merr != nil || ip == nil {
			continue
		}
		l := Lease{MAC: mac.String(), IP: ip}
		if secs > 0 {
			l.Expiry = time.Unix(secs, 0)
		}
		if len(f) > 3 && f[3] != "*" {
			l.Hostname = f[3]
		}
		if len(f) > 4 && f[4] != "*" {
			l.ClientID = f[4]
		}
		out = append(out, l)
	}
	return out
}
