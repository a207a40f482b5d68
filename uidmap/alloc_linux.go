package uidmap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"vmlite/domain"
	"vmlite/plan"
	"vmlite/state"
)

// SubIDFiles are the host's subordinate id files (subuid(5), subgid(5)).
var SubIDFiles = []string{"/etc/subuid", "/etc/subgid"}

// FreeTarget picks the first host id, at or above min and in steps of
// count, of a range used by no defined guest's <idmap>, no running guest
// and no entry of /etc/subuid or /etc/subgid (rootless podman and friends
// take their ranges from there).
func FreeTarget(l state.Layout, min, count uint32) (uint32, error) {
	var used []Span
	running, err := RunningMaps(l)
	if err != nil {
		return 0, err
	}
	for _, g := range running {
		used = append(used, MapSpans(g.IDMap)...)
	}
	store := domain.NewStore(l)
	names, err := store.List()
	if err != nil {
		return 0, err
	}
	for _, n := range names {
		d, err := store.Load(n)
		if err != nil || d.XML.IDMap == nil {
			continue // a broken definition takes no ids
		}
		var m plan.IDMap
		for _, r := range d.XML.IDMap.UIDs {
			m.UIDs = append(m.UIDs, plan.IDRange{Start: uint32(r.Start), Target: uint32(r.Target), Count: uint32(r.Count)})
		}
		for _, r := range d.XML.IDMap.GIDs {
			m.GIDs = append(m.GIDs, plan.IDRange{Start: uint32(r.Start), Target: uint32(r.Target), Count: uint32(r.Count)})
		}
		used = append(used, MapSpans(m)...)
	}
	for _, f := range SubIDFiles {
		fh, err := os.Open(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", f, err)
		}
		ids, err := ParseSubIDs(fh)
		fh.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		used = append(used, SubIDSpans(ids)...)
	}
	return FirstFree(used, uint64(min), uint64(count))
}
