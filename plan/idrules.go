package plan

// The rules of a user namespace's id ranges, one place for both the XML's
// strict pass (domain: errors at the <uid>/<gid> element) and the check
// of a plan at start (uidmap.Validate): libvirt's (the first range maps
// the guest's root) and the kernel's (user_namespaces(7): at most 340
// lines, no overlap on either side); vmlite's own: never host id 0.

// MaxIDRanges is the kernel's limit on the lines of one uid_map or gid_map.
const MaxIDRanges = 340

// IDProblem is what is wrong with an id range.
type IDProblem int

// The problems CheckIDRanges reports.
const (
	// IDZeroCount: the range has count 0.
	IDZeroCount IDProblem = iota + 1
	// IDPastEnd: guest or host ids run past 4294967295.
	IDPastEnd
	// IDHostRoot: the range maps host id 0, the host's root, into the
	// guest (it would hold host root's files and, with the capabilities
	// of its namespace over them, the host's /proc/sys).
	IDHostRoot
	// IDFirstNotRoot: the first range does not start at guest id 0.
	IDFirstNotRoot
	// IDTooMany: more ranges than the kernel takes (Index is -1).
	IDTooMany
	// IDGuestOverlap: the range shares guest ids with range Other.
	IDGuestOverlap
	// IDHostOverlap: the range shares host ids with range Other.
	IDHostOverlap
)

// IDRangeProblem is one problem of the range at Index (from 0) of a list;
// Other is the earlier range an overlap is with, else -1.
type IDRangeProblem struct {
	Kind         IDProblem
	Index, Other int
}

// CheckIDRanges returns every problem of rs, the ranges of one kind (uid
// or gid), in order; more than MaxIDRanges is that problem alone. A range with count 0 or past the end is reported for
// that alone and left out of the checks between ranges; a pair that
// overlaps in the guest is not also reported for the host.
func CheckIDRanges(rs []IDRange) []IDRangeProblem {
	if len(rs) > MaxIDRanges {
		// The kernel counts lines, whatever they hold; and a document of
		// thousands of ranges gets one error, not thousands.
		return []IDRangeProblem{{IDTooMany, -1, -1}}
	}
	var ps []IDRangeProblem
	var ok []int
	for i, r := range rs {
		switch {
		case r.Count == 0:
			ps = append(ps, IDRangeProblem{IDZeroCount, i, -1})
			continue
		case uint64(r.Start)+uint64(r.Count) > 1<<32 || uint64(r.Target)+uint64(r.Count) > 1<<32:
			ps = append(ps, IDRangeProblem{IDPastEnd, i, -1})
			continue
		}
		if r.Target == 0 {
			ps = append(ps, IDRangeProblem{IDHostRoot, i, -1})
		}
		ok = append(ok, i)
	}
	if len(ok) == 0 {
		return ps
	}
	if rs[ok[0]].Start != 0 {
		ps = append(ps, IDRangeProblem{IDFirstNotRoot, ok[0], -1})
	}
	for x := 1; x < len(ok); x++ {
		for y := 0; y < x; y++ {
			a, b := rs[ok[y]], rs[ok[x]]
			switch {
			case overlap(a.Start, a.Count, b.Start, b.Count):
				ps = append(ps, IDRangeProblem{IDGuestOverlap, ok[x], ok[y]})
			case overlap(a.Target, a.Count, b.Target, b.Count):
				ps = append(ps, IDRangeProblem{IDHostOverlap, ok[x], ok[y]})
			}
		}
	}
	return ps
}

// overlap reports whether [a, a+an) and [b, b+bn) intersect, in 64 bits so
// that ranges ending at 2^32 do not wrap.
func overlap(a, an, b, bn uint32) bool {
	return uint64(a) < uint64(b)+uint64(bn) && uint64(b) < uint64(a)+uint64(an)
}
