package uidmap

import (
	"errors"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

func one(start, target, count uint32) []plan.IDRange {
	return []plan.IDRange{{Start: start, Target: target, Count: count}}
}

func both(rs []plan.IDRange) plan.IDMap { return plan.IDMap{UIDs: rs, GIDs: rs} }

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    plan.IDMap
		want []string // substrings of the error; nil = valid
	}{
		{"none", plan.IDMap{}, nil},
		{"standard", both(one(0, 100000, 65536)), nil},
		{"two ranges", both([]plan.IDRange{{Start: 0, Target: 100000, Count: 1000}, {Start: 1000, Target: 300000, Count: 64536}}), nil},
		{"ends at the top", both(one(0, 4294967295-65536, 65536)), nil},
		{"no gids", plan.IDMap{UIDs: one(0, 100000, 65536)}, []string{"no gid range"}},
		{"no uids", plan.IDMap{GIDs: one(0, 100000, 65536)}, []string{"no uid range"}},
		{"count 0", both(one(0, 100000, 0)), []string{"uid range 1 has count 0", "gid range 1 has count 0"}},
		{"root unmapped", both(one(1, 100000, 65536)), []string{"the first uid range (1) starts at 1: the first range maps the guest's root"}},
		// libvirt's rule, which the XML's strict pass applies too: the
		// first range maps guest id 0, not just some range.
		{"root mapped by a later range", both([]plan.IDRange{{Start: 1, Target: 100001, Count: 10}, {Start: 0, Target: 100000, Count: 1}}), []string{"the first uid range (1) starts at 1"}},
		{"host overflow", both(one(0, 4294967295, 2)), []string{"host ids 4294967295+2 run past"}},
		{"guest overflow", both([]plan.IDRange{{Start: 0, Target: 1000, Count: 1}, {Start: 4294967295, Target: 2000, Count: 2}}), []string{"guest ids 4294967295+2 run past"}},
		{"guest overlap", both([]plan.IDRange{{Start: 0, Target: 100000, Count: 1000}, {Start: 999, Target: 300000, Count: 10}}), []string{"uid ranges 1 and 2 overlap in the guest (0-999 and 999-1008)"}},
		{"host overlap", both([]plan.IDRange{{Start: 0, Target: 100000, Count: 1000}, {Start: 1000, Target: 100500, Count: 10}}), []string{"overlap on the host (100000-100999 and 100500-100509)"}},
		{"too many", both(make([]plan.IDRange, MaxRanges+1)), []string{"at most 340"}},
		{"host root", both(one(0, 0, 65536)), []string{"uid range 1 maps host uid 0, the host's root", "gid range 1 maps host gid 0"}},
		{"second range at host root", both([]plan.IDRange{{Start: 0, Target: 100000, Count: 1}, {Start: 1, Target: 0, Count: 10}}), []string{"uid range 2 maps host uid 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.m)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %s", String(tc.m))
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestTranslate(t *testing.T) {
	rs := []plan.IDRange{{Start: 0, Target: 100000, Count: 1000}, {Start: 1000, Target: 300000, Count: 10}}
	for _, tc := range []struct {
		guest, host uint32
		ok          bool
	}{{0, 100000, true}, {999, 100999, true}, {1000, 300000, true}, {1009, 300009, true}, {1010, 0, false}} {
		h, ok := ToHost(rs, tc.guest)
		if ok != tc.ok || h != tc.host {
			t.Errorf("ToHost(%d) = %d, %v; want %d, %v", tc.guest, h, ok, tc.host, tc.ok)
		}
		if !tc.ok {
			continue
		}
		g, ok := ToGuest(rs, tc.host)
		if !ok || g != tc.guest {
			t.Errorf("ToGuest(%d) = %d, %v; want %d", tc.host, g, ok, tc.guest)
		}
	}
	if _, ok := ToGuest(rs, 5); ok {
		t.Error("ToGuest(5) mapped a host id no range holds")
	}
	// The top of the id space: no wrap-around.
	top := one(0, 4294967295-9, 10)
	if h, ok := ToHost(top, 9); !ok || h != 4294967295 {
		t.Errorf("ToHost at the top = %d, %v", h, ok)
	}
	if _, ok := ToHost(top, 10); ok {
		t.Error("ToHost(10) past the range mapped")
	}
}

func TestHostOverlaps(t *testing.T) {
	a := both(one(0, 100000, 65536))
	for _, tc := range []struct {
		name        string
		b           plan.IDMap
		n           int
		first, last uint32
	}{
		{"same", both(one(0, 100000, 65536)), 2, 100000, 165535},
		{"adjacent", both(one(0, 165536, 65536)), 0, 0, 0},
		{"tail", both(one(0, 165535, 10)), 2, 165535, 165535},
		{"uids only", plan.IDMap{UIDs: one(0, 100010, 5), GIDs: one(0, 500000, 5)}, 1, 100010, 100014},
		{"identity-free guest", plan.IDMap{}, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os := HostOverlaps(a, tc.b)
			if len(os) != tc.n {
				t.Fatalf("got %d overlaps %+v, want %d", len(os), os, tc.n)
			}
			if tc.n > 0 && (os[0].First != tc.first || os[0].Last != tc.last || os[0].Kind != UID) {
				t.Errorf("overlap %+v, want uid %d-%d", os[0], tc.first, tc.last)
			}
		})
	}
}

func TestCheckAgainst(t *testing.T) {
	mapped := func(name string, m plan.IDMap) *plan.Plan { return &plan.Plan{Name: name, IDMap: m} }
	running := []Guest{
		{Name: "web", IDMap: both(one(0, 100000, 65536))},
		{Name: "db", IDMap: both(one(0, 200000, 65536))},
		{Name: "plain"},
	}
	for _, tc := range []struct {
		name string
		p    *plan.Plan
		want []string
	}{
		{"free range", mapped("new", both(one(0, 300000, 65536))), nil},
		{"no map", mapped("new", plan.IDMap{}), nil},
		{"clash with web", mapped("new", both(one(0, 100000, 65536))), []string{`running guest "web"`, "host uids 100000-165535", "allowOverlap"}},
		{"clash with both", mapped("new", both(one(0, 150000, 65536))), []string{`"db"`, `"web"`, "host gids 200000-215535"}},
		{"allowed", &plan.Plan{Name: "new", IDMap: plan.IDMap{UIDs: one(0, 100000, 65536), GIDs: one(0, 100000, 65536), AllowOverlap: true}}, nil},
		{"itself", mapped("web", both(one(0, 100000, 65536))), nil},
		{"invalid", mapped("new", both(one(5, 300000, 1))), []string{"maps the guest's root"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckAgainst(tc.p, append([]Guest(nil), running...))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("CheckAgainst: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("CheckAgainst accepted the map")
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("not ErrInvalid: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestString(t *testing.T) {
	if s := String(plan.IDMap{}); s != "identity" {
		t.Errorf("String(empty) = %q", s)
	}
	if s := String(both(one(0, 100000, 65536))); s != "uid 0:100000:65536 gid 0:100000:65536" {
		t.Errorf("String = %q", s)
	}
}
