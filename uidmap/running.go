package uidmap

import (
	"fmt"
	"sort"
	"strings"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// Guest is a running guest's name and map, as CheckRunning reads them.
type Guest struct {
	Name string
	// Root is the runtime tree (state.Layout.Run) of the guest's state root.
	Root  string
	IDMap plan.IDMap
}

// CheckAgainst validates p's map and refuses it when its host ids overlap
// those of a guest in running (p itself, by name and root, excluded), unless
// p.IDMap.AllowOverlap. The error names every guest in the way and wraps
// errdefs.ErrInvalid (the user picks other ids or allows the overlap).
func CheckAgainst(p *plan.Plan, running []Guest) error {
	if err := Validate(p.IDMap); err != nil {
		return fmt.Errorf("guest %q: %w", p.Name, err)
	}
	if !p.IDMap.Enabled() || p.IDMap.AllowOverlap {
		return nil
	}
	sort.Slice(running, func(i, j int) bool { return running[i].Name < running[j].Name })
	var msgs []string
	for _, g := range running {
		same := g.Root == "" || p.Paths.RunRoot == "" || g.Root == p.Paths.RunRoot
		if g.Name == p.Name && same {
			continue
		}
		where := ""
		if !same {
			where = " of the state root with runtime tree " + g.Root
		}
		for _, o := range HostOverlaps(p.IDMap, g.IDMap) {
			msgs = append(msgs, fmt.Sprintf("host %ss %s are also mapped by running guest %q%s (its range %d:%d:%d)",
				o.Kind, span(o.First, o.Last-o.First+1), g.Name, where, o.Theirs.Start, o.Theirs.Target, o.Theirs.Count))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("guest %q: %s; give it other host ids (<idmap> target) or, to share them knowingly, add <vmlite:idmap allowOverlap=\"yes\"/> to its metadata: %w",
		p.Name, strings.Join(msgs, "; "), errdefs.ErrInvalid)
}
