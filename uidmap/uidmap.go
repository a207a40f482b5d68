// Package uidmap checks and applies guest user-namespace maps (<idmap>).
//
// A map sends guest ids start..start+count-1 to host ids target..; the
// guest's root is then an unprivileged host uid. This package
//
//   - validates a map (Validate): every range has ids, none runs past
//     2^32-1, guest id 0 is covered, no two ranges overlap on either side
//     (the kernel refuses that: user_namespaces(7));
//   - refuses a map whose host ids another running guest uses
//     (CheckRunning, under a host-wide lock so that two concurrent starts
//     cannot both take the same ids), unless the guest's metadata allows it
//     (<vmlite:idmap allowOverlap="yes"/>);
//   - translates ids (ToHost, ToGuest) for the chown shift;
//   - shifts a tree's owners by chown when the filesystem cannot be idmapped
//     (Shift, shift_linux.go): recorded, reversible, resumable;
//   - reads /etc/subuid-style files and finds free host ranges (subid.go).
//
// Everything except the _linux.go files is OS-independent and pure.
package uidmap

import (
	"fmt"
	"strings"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// MaxRanges is the kernel's limit on the lines of one uid_map or gid_map
// (Linux >= 4.15; user_namespaces(7)): plan.MaxIDRanges.
const MaxRanges = plan.MaxIDRanges

// idSpace is the number of 32-bit ids; (uid_t)-1 is reserved but a range
// may end just below it.
const idSpace = 1 << 32

// Kind is which id space a range maps.
type Kind int

// Id kinds.
const (
	UID Kind = iota
	GID
)

// String returns "uid" or "gid".
func (k Kind) String() string {
	if k == GID {
		return "gid"
	}
	return "uid"
}

// Validate checks m as the kernel and vmlite need it. An empty map (no user
// namespace) is valid. Errors wrap errdefs.ErrInvalid.
func Validate(m plan.IDMap) error {
	if !m.Enabled() && len(m.GIDs) == 0 {
		return nil
	}
	var msgs []string
	for _, k := range []Kind{UID, GID} {
		msgs = append(msgs, validateRanges(k, ranges(m, k))...)
	}
	if len(msgs) > 0 {
		return fmt.Errorf("idmap: %s: %w", strings.Join(msgs, "; "), errdefs.ErrInvalid)
	}
	return nil
}

func ranges(m plan.IDMap, k Kind) []plan.IDRange {
	if k == GID {
		return m.GIDs
	}
	return m.UIDs
}

// validateRanges words plan.CheckIDRanges's problems of the k ranges rs,
// the rules the XML's strict pass applies too.
func validateRanges(k Kind, rs []plan.IDRange) []string {
	if len(rs) == 0 {
		return []string{fmt.Sprintf("no %s range: a user namespace needs both uid and gid ranges", k)}
	}
	var msgs []string
	for _, p := range plan.CheckIDRanges(rs) {
		var r, o plan.IDRange
		if p.Index >= 0 {
			r = rs[p.Index]
		}
		if p.Other >= 0 {
			o = rs[p.Other]
		}
		switch p.Kind {
		case plan.IDZeroCount:
			msgs = append(msgs, fmt.Sprintf("%s range %d has count 0", k, p.Index+1))
		case plan.IDPastEnd:
			side, first := "guest", r.Start
			if uint64(r.Start)+uint64(r.Count) <= idSpace {
				side, first = "host", r.Target
			}
			msgs = append(msgs, fmt.Sprintf("%s range %d: %s ids %d+%d run past %d", k, p.Index+1, side, first, r.Count, uint64(idSpace-1)))
		case plan.IDHostRoot:
			msgs = append(msgs, fmt.Sprintf("%s range %d maps host %s 0, the host's root, into the guest", k, p.Index+1, k))
		case plan.IDFirstNotRoot:
			msgs = append(msgs, fmt.Sprintf("the first %s range (%d) starts at %d: the first range maps the guest's root (start 0)", k, p.Index+1, r.Start))
		case plan.IDTooMany:
			msgs = append(msgs, fmt.Sprintf("%d %s ranges: the kernel allows at most %d", len(rs), k, MaxRanges))
			return msgs
		case plan.IDGuestOverlap:
			msgs = append(msgs, fmt.Sprintf("%s ranges %d and %d overlap in the guest (%s and %s)", k, p.Other+1, p.Index+1, span(o.Start, o.Count), span(r.Start, r.Count)))
		case plan.IDHostOverlap:
			msgs = append(msgs, fmt.Sprintf("%s ranges %d and %d overlap on the host (%s and %s)", k, p.Other+1, p.Index+1, span(o.Target, o.Count), span(r.Target, r.Count)))
		}
	}
	return msgs
}

// overlaps reports whether [a, a+an) and [b, b+bn) intersect, in 64 bits so
// that ranges ending at 2^32 do not wrap.
func overlaps(a, an, b, bn uint32) bool {
	return uint64(a) < uint64(b)+uint64(bn) && uint64(b) < uint64(a)+uint64(an)
}

// span prints a range as "first-last".
func span(first, count uint32) string {
	return fmt.Sprintf("%d-%d", first, uint64(first)+uint64(count)-1)
}

// Overlap is one host range shared by two maps.
type Overlap struct {
	Kind Kind
	// Mine and Theirs are the two ranges; First..Last the shared host ids.
	Mine, Theirs plan.IDRange
	First, Last  uint32
}

// HostOverlaps returns where the host ids of a and b intersect, uid ranges
// first. Two guests sharing host ids can reach each other's files and
// processes (signals, ptrace, /proc), which is why CheckRunning refuses it.
func HostOverlaps(a, b plan.IDMap) []Overlap {
	var out []Overlap
	for _, k := range []Kind{UID, GID} {
		for _, x := range ranges(a, k) {
			for _, y := range ranges(b, k) {
				if !overlaps(x.Target, x.Count, y.Target, y.Count) {
					continue
				}
				first := max(x.Target, y.Target)
				last := uint32(min(uint64(x.Target)+uint64(x.Count), uint64(y.Target)+uint64(y.Count)) - 1)
				out = append(out, Overlap{Kind: k, Mine: x, Theirs: y, First: first, Last: last})
			}
		}
	}
	return out
}

// ToHost maps guest id g through rs; ok is false for an unmapped id.
func ToHost(rs []plan.IDRange, g uint32) (uint32, bool) {
	for _, r := range rs {
		if g >= r.Start && uint64(g-r.Start) < uint64(r.Count) {
			return r.Target + (g - r.Start), true
		}
	}
	return 0, false
}

// ToGuest maps host id h back through rs; ok is false when no range holds it.
func ToGuest(rs []plan.IDRange, h uint32) (uint32, bool) {
	for _, r := range rs {
		if h >= r.Target && uint64(h-r.Target) < uint64(r.Count) {
			return r.Start + (h - r.Target), true
		}
	}
	return 0, false
}

// Equal reports whether two maps are the same list of ranges.
func Equal(a, b plan.IDMap) bool {
	eq := func(x, y []plan.IDRange) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return eq(a.UIDs, b.UIDs) && eq(a.GIDs, b.GIDs)
}

// String prints a map compactly: "uid 0:100000:65536 gid 0:100000:65536".
func String(m plan.IDMap) string {
	if !m.Enabled() && len(m.GIDs) == 0 {
		return "identity"
	}
	var b strings.Builder
	for _, k := range []Kind{UID, GID} {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k.String())
		for _, r := range ranges(m, k) {
			fmt.Fprintf(&b, " %d:%d:%d", r.Start, r.Target, r.Count)
		}
	}
	return b.String()
}
