package uidmap

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"vmlite/plan"
)

// SubID is one line of /etc/subuid or /etc/subgid (subuid(5)): a user (name
// or uid) owns host ids Start..Start+Count-1 for its user namespaces.
type SubID struct {
	Owner        string
	Start, Count uint32
	// File is where ReadSubIDs found it.
	File string
}

// ParseSubIDs reads an /etc/subuid-style file: "owner:start:count" lines;
// blank lines and lines starting with '#' are skipped. A malformed line is an
// error naming it (shadow-utils refuses such files too).
func ParseSubIDs(r io.Reader) ([]SubID, error) {
	var out []SubID
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || f[0] == "" {
			return nil, fmt.Errorf("line %d: want owner:start:count, got %q", n, line)
		}
		start, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d: start %q: not an id", n, f[1])
		}
		count, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil || count == 0 {
			return nil, fmt.Errorf("line %d: count %q: not a positive number", n, f[2])
		}
		if start+count > idSpace {
			return nil, fmt.Errorf("line %d: %d+%d runs past id %d", n, start, count, uint64(idSpace-1))
		}
		out = append(out, SubID{Owner: f[0], Start: uint32(start), Count: uint32(count)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read subordinate ids: %w", err)
	}
	return out, nil
}

// Span is a range of host ids, in 64 bits so that it may end at 2^32.
type Span struct {
	First, Count uint64
}

// MapSpans are the host ids a map uses, uids and gids alike (a range taken
// as a uid range by one guest and a gid range by another is still better
// kept apart: ownership of files mixes both).
func MapSpans(m plan.IDMap) []Span {
	var out []Span
	for _, rs := range [][]plan.IDRange{m.UIDs, m.GIDs} {
		for _, r := range rs {
			out = append(out, Span{uint64(r.Target), uint64(r.Count)})
		}
	}
	return out
}

// SubIDSpans are the host ids of subuid/subgid entries.
func SubIDSpans(s []SubID) []Span {
	out := make([]Span, len(s))
	for i, x := range s {
		out[i] = Span{uint64(x.Start), uint64(x.Count)}
	}
	return out
}

// FirstFree returns the first host id t = min + k*count (k >= 0) such that
// t..t+count-1 overlaps none of used, or an error when none is left below
// 2^32. Steps of count keep ranges aligned as the templates make them
// (100000, 165536, 231072, ... for 65536 ids).
func FirstFree(used []Span, min, count uint64) (uint32, error) {
	if count == 0 {
		return 0, fmt.Errorf("no ids asked for")
	}
	for t := min; t+count <= idSpace; t += count {
		free := true
		for _, u := range used {
			if t < u.First+u.Count && u.First < t+count {
				free = false
				break
			}
		}
		if free {
			return uint32(t), nil
		}
	}
	return 0, fmt.Errorf("no free range of %d host ids at or above %d", count, min)
}
