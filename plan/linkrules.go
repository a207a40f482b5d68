package plan

import (
	"errors"
	"fmt"
)

// The rules of a guest interface that both the XML front end (domain's
// strict pass: user errors with their path) and the supervisor's set-up
// (guestnet, which may be handed a plan written by hand) apply: one rule
// each, here, so that what validates is what starts.

// MaxLinkName is the longest interface name Linux accepts: IFNAMSIZ (16)
// less the terminating NUL.
const MaxLinkName = 15

// MinMTU and MaxMTU bound an interface's MTU (the kernel's IPv4 minimum,
// and the largest the 16-bit field holds).
const (
	MinMTU = 68
	MaxMTU = 65535
)

// CheckLinkName checks an interface name. The kernel (dev_valid_name) only
// forbids '/', ':', whitespace, "." and ".." and names of IFNAMSIZ or more
// bytes; vmlite is stricter and allows ASCII letters, digits, '-', '_' and
// '.': '%' would make the kernel pick a name of its own ("eth%d"), '@'
// breaks the output of ip(8) (which prints "eth0@if4"), and other bytes
// are trouble for every tool that parses interface names.
func CheckLinkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty interface name")
	case len(name) > MaxLinkName:
		return fmt.Errorf("interface name %q is %d bytes long, the limit is %d", name, len(name), MaxLinkName)
	case name == "." || name == "..":
		return fmt.Errorf("%q is not an interface name", name)
	}
	for i := 0; i < len(name); i++ {
		if !LinkChar(name[i]) {
			return fmt.Errorf("interface name %q: character %q not allowed (letters, digits, '-', '_', '.')", name, name[i])
		}
	}
	return nil
}

// CheckGuestLinkName is CheckLinkName for the name inside the guest, where
// "lo" is the loopback interface the guest already has.
func CheckGuestLinkName(name string) error {
	if name == "lo" {
		return errors.New(`guest name "lo" is the loopback interface`)
	}
	return CheckLinkName(name)
}

// LinkChar reports whether c may appear in an interface name vmlite accepts.
func LinkChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}
