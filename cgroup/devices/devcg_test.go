package devices

import "testing"

func TestRule(t *testing.T) {
	for _, tc := range []struct {
		r    Rule
		s    string
		okay bool
	}{
		{Rule{'c', 1, 3, "rwm"}, "c 1:3 rwm", true},
		{Rule{'c', 136, Wildcard, "rw"}, "c 136:* rw", true},
		{Rule{'b', Wildcard, Wildcard, "m"}, "b *:* m", true},
		{DenyAll, "a", true},
		{Rule{'x', 1, 3, "rwm"}, "x 1:3 rwm", false},
		{Rule{'c', 1, 3, ""}, "c 1:3 ", false},
		{Rule{'c', 1, 3, "rwx"}, "c 1:3 rwx", false},
		{Rule{'c', 1, 3, "rr"}, "c 1:3 rr", false},
		{Rule{'c', -2, 3, "r"}, "c -2:3 r", false},
		{Rule{'c', 1 << 33, 3, "r"}, "c 8589934592:3 r", false},
	} {
		if s := tc.r.String(); s != tc.s {
			t.Errorf("String() = %q, want %q", s, tc.s)
		}
		if err := tc.r.Validate(); (err == nil) != tc.okay {
			t.Errorf("%q: Validate() = %v, want ok=%v", tc.s, err, tc.okay)
		}
	}
	for _, r := range Standard {
		if err := r.Validate(); err != nil {
			t.Errorf("standard rule: %v", err)
		}
	}
}
