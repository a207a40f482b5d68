package console

import (
	"bytes"
	"strings"
	"testing"
)

func TestRing(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"empty", 8, nil, ""},
		{"under capacity", 8, []string{"abc", "de"}, "abcde"},
		{"exactly full", 8, []string{"abcd", "efgh"}, "abcdefgh"},
		{"wraps", 8, []string{"abcdef", "ghij"}, "cdefghij"},
		{"wraps twice", 4, []string{"ab", "cd", "ef", "gh", "i"}, "fghi"},
		{"write larger than ring", 4, []string{"ab", "0123456789"}, "6789"},
		{"write equal to ring after wrap", 4, []string{"abcdef", "wxyz"}, "wxyz"},
		{"disabled", 0, []string{"abc"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRing(tc.max)
			for _, w := range tc.writes {
				r.Write([]byte(w))
			}
			if got := string(r.Bytes()); got != tc.want {
				t.Fatalf("Bytes() = %q, want %q", got, tc.want)
			}
			if r.Len() != len(tc.want) {
				t.Fatalf("Len() = %d, want %d", r.Len(), len(tc.want))
			}
		})
	}
}

// TestRingMatchesSuffix compares the ring with the tail of everything
// written, for many write sizes.
func TestRingMatchesSuffix(t *testing.T) {
	const max = 97
	r := newRing(max)
	var all bytes.Buffer
	for i := 1; i < 400; i++ {
		p := []byte(strings.Repeat(string(rune('a'+i%26)), i%13+1))
		r.Write(p)
		all.Write(p)
		want := all.Bytes()
		if len(want) > max {
			want = want[len(want)-max:]
		}
		if got := r.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("after write %d: ring %q, want %q", i, got, want)
		}
	}
	if cap(r.buf) > max {
		t.Fatalf("ring grew to %d > %d", cap(r.buf), max)
	}
}
