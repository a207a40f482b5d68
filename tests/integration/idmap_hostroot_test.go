//go:build integration

package integration

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestIDMapHostRootRefused: an <idmap> mapping host uid or gid 0 is refused
// by validate and start (exit 2, the xpath), before anything is made; one
// onto host system ids starts with a warning naming them.
func TestIDMapHostRootRefused(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct{ from, to, path string }{
		{`<uid start="0" target="100000" count="65536"`, `<uid start="0" target="0" count="65536"`, "/domain/idmap/uid/@target"},
		{`<gid start="0" target="100000" count="65536"`, `<gid start="0" target="0" count="65536"`, "/domain/idmap/gid/@target"},
	} {
		name := h.uniqueName("hr")
		x, _ := h.busybox(name, true)
		raw, err := os.ReadFile(x)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(raw, []byte(tc.from)) {
			t.Fatalf("template XML lacks %s:\n%s", tc.from, raw)
		}
		if err := os.WriteFile(x, bytes.Replace(raw, []byte(tc.from), []byte(tc.to), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"validate", "start"} {
			r := h.run(cmd, x)
			if r.code != 2 || !strings.Contains(r.stderr, tc.path) || !strings.Contains(r.stderr, "host's root") {
				t.Errorf("%s with %s: want exit 2 naming %s, got %v", cmd, tc.to, tc.path, r)
			}
		}
		if dirExists(h.root + "/run/guests/" + name) {
			t.Errorf("the refused start of %s left its runtime directory", name)
		}
	}
	// System ids: a warning, and the guest runs.
	name := h.uniqueName("hs")
	x, _ := h.busybox(name, true)
	raw, _ := os.ReadFile(x)
	raw = bytes.ReplaceAll(raw, []byte(`target="100000"`), []byte(`target="700"`))
	if err := os.WriteFile(x, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	r := h.run("validate", x)
	if r.code != 0 || !strings.Contains(r.stderr, "system ids") {
		t.Errorf("validate of a map onto host ids 700-: want valid with a warning, got %v", r)
	}
}
