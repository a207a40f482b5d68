package cli

import (
	"testing"
	"time"
)

func TestSecondsFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{"30": 30 * time.Second, "0": 0, "1.5": 1500 * time.Millisecond, "30s": 30 * time.Second, "2m": 2 * time.Minute} {
		var s seconds
		if err := s.Set(in); err != nil || time.Duration(s) != want {
			t.Errorf("%q: %v %v, want %v", in, time.Duration(s), err, want)
		}
	}
	for _, in := range []string{"", "-1", "-1s", "30x", "soon"} {
		var s seconds
		if err := s.Set(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
