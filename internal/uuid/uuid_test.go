package uuid

import (
	"errors"
	"testing"
)

func TestCanonical(t *testing.T) {
	const want = "8369f1ac-7e46-e869-4ca5-759d51478066"
	for _, in := range []string{want, "8369f1ac7e46e8694ca5759d51478066", "8369F1AC7E46E8694CA5759D51478066",
		"8369F1AC-7E46-E869-4CA5-759D51478066", " 8369f1ac7e46e8694ca5759d51478066\n"} {
		if got, err := Canonical(in); err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "8369f1ac", "8369f1ac-7e46e869-4ca5-759d51478066-", "8369f1ac7e46e8694ca5759d5147806g",
		"+369f1ac7e46e8694ca5759d51478066", "8369f1ac-7e46-e869-4ca5_759d51478066", "00000000-0000-0000-0000-000000000000"} {
		if got, err := Canonical(in); err == nil {
			t.Errorf("Canonical(%q) = %q, want an error", in, got)
		}
	}
	if _, err := Canonical("x"); !errors.Is(err, ErrSyntax) {
		t.Errorf("Canonical(x): %v, want ErrSyntax", err)
	}
}

func TestNew(t *testing.T) {
	a, b := New(), New()
	if a == b {
		t.Fatalf("two UUIDs alike: %s", a)
	}
	if c, err := Canonical(a); err != nil || c != a {
		t.Errorf("New() = %q is not canonical (%q, %v)", a, c, err)
	}
	if a[14] != '4' {
		t.Errorf("New() = %q is not version 4", a)
	}
}

func FuzzCanonical(f *testing.F) {
	f.Add("8369F1AC7E46E8694CA5759D51478066")
	f.Add("8369f1ac-7e46-e869-4ca5-759d51478066")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Canonical(s)
		if err != nil {
			return
		}
		if again, err := Canonical(c); err != nil || again != c {
			t.Fatalf("Canonical(%q) = %q, not a fixed point (%q, %v)", s, c, again, err)
		}
	})
}

// TestMAC: the derived MAC is the one guests have had (a change would
// renumber every running network's leases), the same for every spelling
// of the UUID, and different per interface.
func TestMAC(t *testing.T) {
	const u = "8369f1ac-7e46-e869-4ca5-759d51478066"
	for _, tc := range []struct {
		u     string
		index int
		want  string
	}{
		{u, 0, "52:54:00:dc:e5:06"},
		{"8369F1AC7E46E8694CA5759D51478066", 0, "52:54:00:dc:e5:06"},
		{u, 3, "52:54:00:a7:c9:9e"},
		{u, -1, "52:54:00:f9:ac:bc"},
	} {
		if got := MAC(tc.u, tc.index); got != tc.want {
			t.Errorf("MAC(%s, %d) = %s, want %s", tc.u, tc.index, got, tc.want)
		}
	}
}
