package state

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestInstanceID(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	hex8 := regexp.MustCompile(`^[0-9a-f]{8}$`)
	tests := []struct {
		a, b string
		same bool
	}{
		{"", "", true},
		{filepath.Join(dir, "a"), filepath.Join(dir, "a") + "/", true},
		{filepath.Join(dir, "a"), filepath.Join(dir, "link"), true},
		{filepath.Join(dir, "a"), filepath.Join(dir, "b"), false},
		{"", filepath.Join(dir, "a"), false},
	}
	for _, tc := range tests {
		x, y := NewLayout(tc.a).InstanceID(), NewLayout(tc.b).InstanceID()
		if !hex8.MatchString(x) || !hex8.MatchString(y) {
			t.Errorf("InstanceID(%q) = %q, InstanceID(%q) = %q: want 8 hex digits", tc.a, x, tc.b, y)
		}
		if (x == y) != tc.same {
			t.Errorf("InstanceID(%q) = %q, InstanceID(%q) = %q: same = %v, want %v", tc.a, x, tc.b, y, x == y, tc.same)
		}
	}
}
