package plan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MAC is an Ethernet address; the zero MAC is none (the kernel picks one).
// The plan's JSON writes it as text, "52:54:00:12:34:56" ("" for none),
// the form plans had when it was a string. plan links no "net" package
// (the guest's init stage imports plan), hence its own parser.
type MAC [6]byte

// ParseMAC reads six colon-separated hex octets ("52:54:00:12:34:56";
// one digit per octet is accepted, as libvirt does).
func ParseMAC(s string) (MAC, error) {
	var m MAC
	parts := strings.Split(s, ":")
	if len(parts) != len(m) {
		return MAC{}, fmt.Errorf("MAC address %q: want six octets like 52:54:00:12:34:56", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || p == "" || len(p) > 2 || strings.ContainsAny(p, "+-") {
			return MAC{}, fmt.Errorf("MAC address %q: octet %q is not two hex digits", s, p)
		}
		m[i] = byte(v)
	}
	return m, nil
}

// IsZero says whether m is none.
func (m MAC) IsZero() bool { return m == MAC{} }

// Multicast says whether m is a group address (the low bit of its first
// octet), which no interface may have.
func (m MAC) Multicast() bool { return m[0]&1 != 0 }

// String is the lower-case colon form, "" for none.
func (m MAC) String() string {
	if m.IsZero() {
		return ""
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, o := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[o>>4], hex[o&15])
	}
	return string(b)
}

// MarshalText writes String.
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads what MarshalText writes ("" is none).
func (m *MAC) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = MAC{}
		return nil
	}
	v, err := ParseMAC(string(b))
	if err != nil {
		return errors.Join(errBadMAC, err)
	}
	*m = v
	return nil
}

var errBadMAC = errors.New("launch plan: bad mac")
