package main

import (
	"strings"
	"testing"
)

const sampleRollup = `00400000-7ffe92b14000 ---p 00000000 00:00 0                          [rollup]
Rss:                9368 kB
Pss:                9360 kB
Pss_Dirty:          3032 kB
Pss_Anon:           3032 kB
Pss_File:           6328 kB
Pss_Shmem:             0 kB
Shared_Clean:          8 kB
Shared_Dirty:          0 kB
Private_Clean:      6328 kB
Private_Dirty:      3032 kB
Referenced:         9368 kB
`

func TestParseRollup(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Rollup
		wantErr bool
	}{
		{"kernel 6.x sample", sampleRollup, Rollup{RSS: 9368, PSS: 9360, PrivateClean: 6328, PrivateDirty: 3032, PSSAnon: 3032, PSSFile: 6328}, false},
		{"missing field", "Rss: 1 kB\nPss: 1 kB\nPrivate_Clean: 1 kB\n", Rollup{}, true},
		{"bad number", strings.Replace(sampleRollup, "9360", "93x0", 1), Rollup{}, true},
		{"negative", strings.Replace(sampleRollup, "9360", "-1", 1), Rollup{}, true},
		{"empty", "", Rollup{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRollup(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if err == nil && got.USS() != tt.want.PrivateClean+tt.want.PrivateDirty {
				t.Errorf("USS = %d", got.USS())
			}
		})
	}
}

func TestParseMeminfo(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{"normal", "MemTotal:       24684056 kB\nMemFree:        21930000 kB\nMemAvailable:   23946000 kB\n", 24684056 - 23946000, false},
		{"no MemAvailable", "MemTotal: 10 kB\nMemFree: 5 kB\n", 0, true},
		{"garbage value", "MemTotal: ten kB\nMemAvailable: 5 kB\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMeminfo(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %d, %v; want %d, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    statFields
		wantErr bool
	}{
		{"plain", "12828 (init) S 12812 12828 12828 34816 ...", statFields{'S', 12812, 0}, false},
		{"comm with spaces and parens", "77 ([lxc monitor] (x)) Z 1 77 77 0", statFields{'Z', 1, 0}, false},
		{"cpu times", "21534 (vmlite) S 1 21534 21534 0 -1 4194560 1571 0 0 0 28 7 0 0 20 0 9 0", statFields{'S', 1, 35}, false},
		{"bad cpu time", "21534 (vmlite) S 1 21534 21534 0 -1 4194560 1571 0 0 0 x 7 0", statFields{}, true},
		{"no paren", "12 init S 1", statFields{}, true},
		{"short", "12 (init)", statFields{}, true},
		{"bad ppid", "12 (init) S x", statFields{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %+v, %v; want %+v, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParseRollup(f *testing.F) {
	f.Add(sampleRollup)
	f.Add("Rss: 1 kB\n")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRollup(strings.NewReader(s))
		if err == nil && (r.RSS < 0 || r.PSS < 0 || r.USS() < 0) {
			t.Fatalf("negative figures accepted: %+v", r)
		}
	})
}

func FuzzParseStat(f *testing.F) {
	f.Add("12828 (init) S 12812 12828")
	f.Add("1 ()) R 0")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseStat(s)
	})
}

func FuzzParseMeminfo(f *testing.F) {
	f.Add("MemTotal: 10 kB\nMemAvailable: 5 kB\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseMeminfo(strings.NewReader(s))
	})
}
