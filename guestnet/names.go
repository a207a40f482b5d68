package guestnet

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// MaxLinkName is the longest interface name Linux accepts (plan's).
const MaxLinkName = plan.MaxLinkName

// HostLinkPrefix starts every host-side link name vmlite generates, so that an
// operator (and vmlite's own cleanup) can tell them apart from other links.
const HostLinkPrefix = "vml-"

// HashLen is the number of hex digits of the hash in a shortened name:
// 24 bits keeps two guests with the same 4-character prefix apart with
// overwhelming probability while leaving room for that readable prefix.
const HashLen = 6

// HostLinkName returns the host-side name of interface index of guest, e.g.
// "vml-web1-0". The name is stable (same guest and index, same name) and
// always a valid interface name: when the readable form would be longer than
// MaxLinkName or the guest name has characters that do not belong in an
// interface name, it becomes "vml-" + up to 4 safe characters of the name +
// "-" + a hash of the full name and index ("vml-aver-3fa2c1"), the way
// systemd-nspawn shortens its ve- names.
func HostLinkName(guest string, index int) string {
	idx := strconv.Itoa(index)
	safe := LinkSafe(guest)
	if safe == guest && guest != "" {
		if n := HostLinkPrefix + guest + "-" + idx; len(n) <= MaxLinkName {
			return n
		}
	}
	sum := sha256.Sum256([]byte(guest + "\x00" + idx))
	h := hex.EncodeToString(sum[:])[:HashLen]
	keep := MaxLinkName - len(HostLinkPrefix) - 1 - HashLen
	if len(safe) > keep {
		safe = safe[:keep]
	}
	if safe == "" {
		return HostLinkPrefix + h
	}
	return HostLinkPrefix + safe + "-" + h
}

// LinkSafe keeps the characters of s that ValidLinkName accepts, minus '.',
// which is kept out of generated names so that they never read as "." or "..".
func LinkSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && plan.LinkChar(c) {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ValidLinkName checks an interface name given by the user (<target dev>,
// <guest dev>, <bridge name>): plan.CheckLinkName, the rule the XML's
// strict pass applies too. The error wraps errdefs.ErrInvalid.
func ValidLinkName(name string) error {
	if err := plan.CheckLinkName(name); err != nil {
		return fmt.Errorf("%w: %v", errdefs.ErrInvalid, err)
	}
	return nil
}

// GuestMAC is the MAC of interface index of the guest with uuid when its
// XML has none: domain.DefaultMAC, the one place that knows it (dumpxml
// writes the same address).
func GuestMAC(uuid string, index int) string { return domain.DefaultMAC(uuid, index) }

// HostMAC returns the MAC for the host end of a veth whose guest end has
// guestMAC: the same address with the first octet 0xfe, as libvirt does for
// its tap devices. A Linux bridge takes the lowest MAC of its ports as its own
// unless one is set; 0xfe keeps host ends from ever being the lowest, so the
// bridge's address does not change as guests come and go.
func HostMAC(guestMAC net.HardwareAddr) net.HardwareAddr {
	if len(guestMAC) != 6 {
		return nil
	}
	m := append(net.HardwareAddr(nil), guestMAC...)
	m[0] = 0xfe
	return m
}
