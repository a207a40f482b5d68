package uidmap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// SubIDFiles are the host's subordinate id files (subuid(5), subgid(5)).
var SubIDFiles = []string{"/etc/subuid", "/etc/subgid"}

// SubIDOwner is the owner of the entries that set host ids aside for
// vmlite's guests (`make install` adds them when missing): FreeTarget
// allocates from them, CheckSubIDs allows them.
const SubIDOwner = "vmlite"

// FreeTarget picks a free host range of count ids for a new guest: one
// used by no defined guest's <idmap> (defined: domain.Store.IDMaps) and
// no running guest of any state root. With a SubIDOwner ("vmlite") entry in both /etc/subuid and
// /etc/subgid it is taken from that entry; otherwise it is the first, at or
// above min and in steps of count, that no entry of either file lists
// (rootless podman and friends take their ranges from there).
func FreeTarget(l state.Layout, defined []plan.IDMap, min, count uint32) (uint32, error) {
	var used []Span
	lock, err := lockHost()
	if err != nil {
		return 0, err
	}
	running, err := AllRunningMaps(l)
	lock.Close()
	if err != nil {
		return 0, err
	}
	for _, g := range running {
		used = append(used, MapSpans(g.IDMap)...)
	}
	for _, m := range defined {
		used = append(used, MapSpans(m)...)
	}
	return pick(used, min, count)
}

// UnownedTarget picks the first host range of count ids that no user owns
// in /etc/subuid or /etc/subgid, from the SubIDOwner entries when both
// files have one: the templates' default. Unlike FreeTarget it ignores
// guests, so that it is the same for every guest of the host.
func UnownedTarget(min, count uint32) (uint32, error) { return pick(nil, min, count) }

// pick chooses a range of count ids outside used and every other user's
// subordinate ids: from SubIDOwner's entries when there are, else the
// first at or above min.
func pick(used []Span, min, count uint32) (uint32, error) {
	subs, err := ReadSubIDs()
	if err != nil {
		return 0, err
	}
	var others []SubID
	for _, s := range subs {
		if s.Owner != SubIDOwner {
			others = append(others, s)
		}
	}
	used = append(used, SubIDSpans(others)...)
	if own, ok := ownRange(subs); ok {
		t, err := FirstFree(used, own.First, uint64(count))
		if err != nil || uint64(t)+uint64(count) > own.First+own.Count {
			return 0, fmt.Errorf("no free range of %d host ids left in the %q entries of %v: %w", count, SubIDOwner, SubIDFiles, errdefs.ErrInvalid)
		}
		return t, nil
	}
	return FirstFree(used, uint64(min), uint64(count))
}

// ReadSubIDs reads every entry of SubIDFiles (missing files have none).
func ReadSubIDs() ([]SubID, error) {
	var out []SubID
	for _, f := range SubIDFiles {
		fh, err := os.Open(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		ids, err := ParseSubIDs(fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for i := range ids {
			ids[i].File = f
		}
		out = append(out, ids...)
	}
	return out, nil
}

// ownRange is the host ids that both files give SubIDOwner (their
// intersection, when they differ).
func ownRange(subs []SubID) (Span, bool) {
	var per []Span
	for _, f := range SubIDFiles {
		for _, s := range subs {
			if s.Owner == SubIDOwner && s.File == f {
				per = append(per, Span{uint64(s.Start), uint64(s.Count)})
				break
			}
		}
	}
	if len(per) != len(SubIDFiles) || len(per) == 0 {
		return Span{}, false
	}
	first, end := per[0].First, per[0].First+per[0].Count
	for _, p := range per[1:] {
		first, end = max(first, p.First), min(end, p.First+p.Count)
	}
	if end <= first {
		return Span{}, false
	}
	return Span{first, end - first}, true
}

// CheckSubIDs refuses a map whose host ids belong to a user in
// /etc/subuid or /etc/subgid (other than SubIDOwner): that user's own
// user namespaces would share them, and with them the guest's files and
// processes. <vmlite:idmap allowOverlap="yes"/> allows it knowingly.
func CheckSubIDs(p *plan.Plan) error {
	if !p.IDMap.Enabled() || p.IDMap.AllowOverlap {
		return nil
	}
	subs, err := ReadSubIDs()
	if err != nil {
		return err
	}
	var msgs []string
	for _, s := range subs {
		if s.Owner == SubIDOwner {
			continue
		}
		for _, sp := range MapSpans(p.IDMap) {
			if sp.First < uint64(s.Start)+uint64(s.Count) && uint64(s.Start) < sp.First+sp.Count {
				msgs = append(msgs, fmt.Sprintf("host ids %s belong to %q in %s", span(uint32(max(sp.First, uint64(s.Start))), uint32(min(sp.First+sp.Count, uint64(s.Start)+uint64(s.Count))-max(sp.First, uint64(s.Start)))), s.Owner, s.File))
				break
			}
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("guest %q: %s: that user's user namespaces would share the guest's ids (files, signals, ptrace); fix: give it other host ids (`vmlite template --idmap-auto` picks free ones; see docs/security.md for a %q entry), or add <vmlite:idmap allowOverlap=\"yes\"/> to its metadata: %w",
		p.Name, strings.Join(dedupe(msgs), "; "), SubIDOwner, errdefs.ErrInvalid)
}

func dedupe(xs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
