// Package testutil holds helpers shared by vmlite's tests.
package testutil

import (
	"os"
	"testing"
	"time"
)

// RequireRoot skips t, loudly, unless the test runs as root. CI runs as root,
// so these tests run there; the skip is for developers' unprivileged runs.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED LOUDLY: needs root (namespaces, cgroups, mounts); run `make test` as root")
	}
}

// WaitFor polls cond every 10ms until it returns true or the deadline passes,
// then fails t with msg. Use generous deadlines: the machine is shared.
func WaitFor(t testing.TB, deadline time.Duration, msg string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		if cond() {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", deadline, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
