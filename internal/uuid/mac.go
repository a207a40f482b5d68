package uuid

import (
	"crypto/sha256"
	"net"
	"strconv"
	"strings"
)

// MAC is the MAC address of interface index (0-based; -1 for a managed
// network's bridge) of the guest or network with UUID u, for interfaces
// whose XML has no <mac>. It is stable: the same guest keeps the same MAC
// across restarts, so DHCP leases and neighbours' caches stay valid, like
// libvirt's stored MACs. Here, in a leaf package, because the XML front
// end (dumpxml) and the supervisor's network set-up both need it, and the
// supervisor links no XML code.
//
// The format is 52:54:00:xx:xx:xx, libvirt's and QEMU's prefix: its first
// octet has the locally-administered bit set and the multicast bit clear, so
// it can never collide with a vendor's burned-in address, and operators
// already read 52:54:00 as "a virtual machine's NIC". The last three octets
// are the first bytes of SHA-256(uuid, index); the UUID is normalised first
// (lower case, no dashes), so every spelling of one UUID gives one MAC.
//
// 24 bits make a collision between two of N interfaces on one bridge about
// N²/2^25 likely (0.03% for 100): the same trade libvirt makes. An explicit
// <mac> in the XML always wins.
func MAC(u string, index int) string {
	norm := strings.ToLower(strings.ReplaceAll(u, "-", ""))
	sum := sha256.Sum256([]byte(norm + "\x00" + strconv.Itoa(index)))
	return net.HardwareAddr{0x52, 0x54, 0x00, sum[0], sum[1], sum[2]}.String()
}
