package supervisor

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestParseSignal: every signal name that validation accepts is one the stop
// code can send (SIGWINCH, SIGCHLD and SIGRTMAX-2 were accepted by the XML
// check and then read as "no shutdown signal", so stop killed the guest).
func TestParseSignal(t *testing.T) {
	for name, want := range map[string]unix.Signal{
		"SIGTERM":    unix.SIGTERM,
		"SIGPWR":     unix.SIGPWR,
		"SIGWINCH":   unix.SIGWINCH,
		"SIGCHLD":    unix.SIGCHLD,
		"SIGRTMIN":   34,
		"SIGRTMIN+4": 38,
		"SIGRTMAX":   64,
		"SIGRTMAX-2": 62,
	} {
		got, ok := parseSignal(name)
		if !ok || got != want {
			t.Errorf("parseSignal(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "SIGNOPE", "TERM", "SIGRTMIN+31", "SIGRTMAX-31", "12"} {
		if got, ok := parseSignal(name); ok {
			t.Errorf("parseSignal(%q) = %d, want no signal", name, got)
		}
	}
}
