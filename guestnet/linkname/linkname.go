// Package linkname makes the host-side names of guests' links: apart from
// package guestnet (netlink), so that the plan builder, which the front
// binary links, names links as the supervisor does.
package linkname

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"vmlite/plan"
)

// HostLinkPrefix starts every host-side link name vmlite generates, so that an
// operator (and vmlite's own cleanup) can tell them apart from other links.
const HostLinkPrefix = "vml-"

// LinkHashLen is the number of hex digits of the hash in a shortened name:
// 24 bits keeps two guests with the same 4-character prefix apart with
// overwhelming probability while leaving room for that readable prefix.
const LinkHashLen = 6

// HostLinkName returns the host-side name of interface index of guest, e.g.
// "vml-web1-0". The name is stable (same guest and index, same name) and
// always a valid interface name: when the readable form would be longer than
// plan.MaxLinkName or the guest name has characters that do not belong in an
// interface name, it becomes "vml-" + up to 4 safe characters of the name +
// "-" + a hash of the full name and index ("vml-aver-3fa2c1"), the way
// systemd-nspawn shortens its ve- names.
func HostLinkName(guest string, index int) string {
	idx := strconv.Itoa(index)
	safe := LinkSafe(guest)
	if safe == guest && guest != "" {
		if n := HostLinkPrefix + guest + "-" + idx; len(n) <= plan.MaxLinkName {
			return n
		}
	}
	sum := sha256.Sum256([]byte(guest + "\x00" + idx))
	h := hex.EncodeToString(sum[:])[:LinkHashLen]
	keep := plan.MaxLinkName - len(HostLinkPrefix) - 1 - LinkHashLen
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
