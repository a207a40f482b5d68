package signame

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	for name, want := range map[string]unix.Signal{
		"SIGTERM": unix.SIGTERM, "SIGPWR": unix.SIGPWR, "SIGWINCH": unix.SIGWINCH, "SIGCHLD": unix.SIGCHLD,
		"SIGUSR2": unix.SIGUSR2, "SIGRTMIN": 34, "SIGRTMIN+4": 38, "SIGRTMIN+30": 64,
		"SIGRTMAX": 64, "SIGRTMAX-2": 62, "SIGRTMAX-30": 34,
	} {
		if got, err := Parse(name); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", name, got, err, want)
		}
	}
	for _, name := range []string{"", "TERM", "sigterm", "SIGNOPE", "12", "SIGRTMIN+31", "SIGRTMAX-31",
		"SIGRTMIN-1", "SIGRTMAX+1", "SIGRTMIN+", "SIGRTMIN+x", "SIGRTMIN+ 1", "SIGRTMIN++1"} {
		if got, err := Parse(name); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", name, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"SIGTERM", "SIGRTMIN+4", "SIGRTMAX-2", "SIGWINCH", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := Parse(s)
		if err == nil && (sig < 1 || sig > RTMax) {
			t.Fatalf("Parse(%q) = %d, outside 1..%d", s, sig, RTMax)
		}
	})
}
