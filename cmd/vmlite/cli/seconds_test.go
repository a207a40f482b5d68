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
	for _, in := range []string{"", "-1", "-1s", "30x", "soon", "NaN", "Inf"} {
		var s seconds
		if err := s.Set(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// FuzzSeconds: --timeout never panics and never yields a negative duration.
func FuzzSeconds(f *testing.F) {
	for _, s := range []string{"30", "1.5", "2m", "-1", "1e9", "NaN", "Inf", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var s seconds
		if err := s.Set(v); err == nil && time.Duration(s) < 0 {
			t.Fatalf("%q gave %v", v, time.Duration(s))
		}
	})
}

// FuzzParseSignal: send-signal's signal names never panic and stay in range.
func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"TERM", "sigterm", "15", "-1", "SIGRTMIN+3", "nope"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if sig, err := parseSignal(v); err == nil && (sig < 0 || sig > 64) {
			t.Fatalf("%q gave signal %d", v, sig)
		}
	})
}
