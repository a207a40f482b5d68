package uidmap

import (
	"strings"
	"testing"

	"vmlite/plan"
)

func TestParseSubIDs(t *testing.T) {
	got, err := ParseSubIDs(strings.NewReader("# podman users\nalice:100000:65536\n\n1001:165536:65536\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []SubID{{Owner: "alice", Start: 100000, Count: 65536}, {Owner: "1001", Start: 165536, Count: 65536}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"alice:1", "alice:x:1", "alice:1:0", ":1:1", "a:4294967295:2", "a:1:2:3", "a:-1:2"} {
		if _, err := ParseSubIDs(strings.NewReader(bad + "\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseSubIDs(%q) = %v, want a line 1 error", bad, err)
		}
	}
}

func FuzzParseSubIDs(f *testing.F) {
	f.Add("alice:100000:65536\n# c\nbob:165536:65536\n")
	f.Add("x:4294967295:1")
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ParseSubIDs(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, x := range ids {
			if x.Count == 0 || uint64(x.Start)+uint64(x.Count) > idSpace || x.Owner == "" || strings.Contains(x.Owner, ":") {
				t.Fatalf("accepted %+v", x)
			}
		}
	})
}

func TestFirstFree(t *testing.T) {
	guest := func(target uint32) []Span { return MapSpans(both(one(0, target, 65536))) }
	for _, tc := range []struct {
		name string
		used []Span
		want uint32
		bad  bool
	}{
		{"nothing used", nil, 100000, false},
		{"first taken", guest(100000), 165536, false},
		{"first two taken", append(guest(100000), guest(165536)...), 231072, false},
		{"a gap", append(guest(100000), guest(231072)...), 165536, false},
		{"unaligned neighbour", SubIDSpans([]SubID{{Owner: "alice", Start: 150000, Count: 65536}}), 231072, false},
		{"a gid range counts", MapSpans(plan.IDMap{GIDs: one(0, 100000, 1)}), 165536, false},
		{"all taken", []Span{{0, idSpace}}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FirstFree(tc.used, 100000, 65536)
			if tc.bad {
				if err == nil {
					t.Fatalf("FirstFree = %d, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("FirstFree = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}
