package templates

import (
	"bytes"
	"strings"
	"testing"
)

func TestDIParser(t *testing.T) {
	in := `P: 0 100 DOWNREL
PF: Downloading Release file
I: RETRIEVING
IA: libc6
IA: 2.36-9
IF: Retrieving %s %s
P: 512 1024
W: RETRYING
WA: http://x/a.deb
WF: Retrying failed download of %s (100%% done)
garbage line
E: COULDNTDL
EA: libc6
EF: Couldn't download package %s
IA: orphan argument
IF: orphan format
`
	var p DIParser
	var got []DIEvent
	for _, l := range strings.Split(in, "\n") {
		if ev, ok := p.Feed(l); ok {
			got = append(got, ev)
		}
	}
	want := []DIEvent{
		{Kind: 'P', Name: "DOWNREL", Now: 0, End: 100},
		{Kind: 'I', Name: "RETRIEVING", Text: "Retrieving libc6 2.36-9"},
		{Kind: 'P', Now: 512, End: 1024},
		{Kind: 'W', Name: "RETRYING", Text: "Retrying failed download of http://x/a.deb (100% done)"},
		{Kind: 'E', Name: "COULDNTDL", Text: "Couldn't download package libc6"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func FuzzDIParser(f *testing.F) {
	f.Add("P: 1 2 DOWNDEBS\nI: X\nIA: a\nIF: %s %d %%\n")
	f.Add("P: -1 0\nP: 9 3 X\n")
	f.Fuzz(func(t *testing.T, in string) {
		var p DIParser
		var out bytes.Buffer
		r := &progressReporter{w: &out}
		for _, l := range strings.Split(in, "\n") {
			ev, ok := p.Feed(l)
			if !ok {
				continue
			}
			if ev.Kind == 'P' && (ev.End <= 0 || ev.Now < 0 || ev.Now > ev.End) {
				t.Fatalf("bad progress event %+v", ev)
			}
			r.event(ev) // must not panic (division, stage index)
		}
	})
}

func TestProgressReporter(t *testing.T) {
	var out bytes.Buffer
	r := &progressReporter{w: &out, prefix: "t: "}
	events := []DIEvent{
		{Kind: 'P', Name: "DOWNREL", Now: 0, End: 100},
		{Kind: 'P', Name: "DOWNREL", Now: 5, End: 100}, // same tenth: quiet
		{Kind: 'P', Name: "DOWNREL", Now: 100, End: 100},
		{Kind: 'P', Name: "DOWNDEBS", Now: 0, End: 4 << 20},
		{Kind: 'P', Now: 2 << 20, End: 4 << 20},               // a WGET% line: no id, the current step
		{Kind: 'I', Name: "RETRIEVING", Text: "Retrieving x"}, // info is quiet
		{Kind: 'W', Name: "W", Text: "careful"},
		{Kind: 'P', Name: "DOWNREL", Now: 100, End: 100}, // an earlier step: ignored
		{Kind: 'P', Name: "UNKNOWNSTEP", Now: 3, End: 4}, // unknown id: the current step
		{Kind: 'P', Name: "CONFBASE", Now: 34, End: 34},
	}
	for _, ev := range events {
		r.event(ev)
	}
	want := `t: [1/6] checking the release 0% (0/100)
t: [1/6] checking the release 100% (100/100)
t: [3/6] downloading packages 0% (0.0/4.0 MiB)
t: [3/6] downloading packages 50% (2.0/4.0 MiB)
t: W: careful
t: [3/6] downloading packages 75% (3/4)
t: [6/6] installing the base system 100% (34/34)
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}
