package plan

import (
	"reflect"
	"testing"
)

func TestCheckIDRanges(t *testing.T) {
	r := func(s, t, c uint32) IDRange { return IDRange{Start: s, Target: t, Count: c} }
	p := func(k IDProblem, i, o int) IDRangeProblem { return IDRangeProblem{k, i, o} }
	for _, tc := range []struct {
		name string
		rs   []IDRange
		want []IDRangeProblem
	}{
		{"standard", []IDRange{r(0, 100000, 65536)}, nil},
		{"two", []IDRange{r(0, 100000, 1000), r(1000, 300000, 64536)}, nil},
		{"top", []IDRange{r(0, 4294967295-65536, 65536)}, nil},
		{"count 0", []IDRange{r(0, 100000, 0)}, []IDRangeProblem{p(IDZeroCount, 0, -1)}},
		{"past end", []IDRange{r(0, 4294967295, 2)}, []IDRangeProblem{p(IDPastEnd, 0, -1)}},
		{"host root", []IDRange{r(0, 0, 10)}, []IDRangeProblem{p(IDHostRoot, 0, -1)}},
		{"first not root", []IDRange{r(1, 100001, 10), r(0, 100000, 1)}, []IDRangeProblem{p(IDFirstNotRoot, 0, -1)}},
		{"first usable not root", []IDRange{r(0, 5, 0), r(1, 100001, 10)}, []IDRangeProblem{p(IDZeroCount, 0, -1), p(IDFirstNotRoot, 1, -1)}},
		{"guest overlap", []IDRange{r(0, 100000, 1000), r(999, 300000, 10)}, []IDRangeProblem{p(IDGuestOverlap, 1, 0)}},
		{"host overlap", []IDRange{r(0, 100000, 1000), r(1000, 100500, 10)}, []IDRangeProblem{p(IDHostOverlap, 1, 0)}},
		{"both overlap once", []IDRange{r(0, 100000, 1000), r(5, 100005, 10)}, []IDRangeProblem{p(IDGuestOverlap, 1, 0)}},
		{"too many", make([]IDRange, MaxIDRanges+1), []IDRangeProblem{p(IDTooMany, -1, -1)}},
	} {
		if got := CheckIDRanges(tc.rs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
