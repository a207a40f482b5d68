package plan

import "testing"

func TestIsGuestCgroupName(t *testing.T) {
	for _, tc := range []struct {
		elem string
		want bool
	}{
		{CgroupName("web1", "0123abcd"), true},
		{"a.b.deadbeef", true},
		{".deadbeef", false},     // no name before the instance
		{"web1.DEADBEEF", false}, // upper case is no instance of ours
		{"web1.0123abc", false},
		{"web1.0123abcde", false},
		{"web1.0123abcg", false},
		{"machine", false},
		{"", false},
	} {
		if got := IsGuestCgroupName(tc.elem); got != tc.want {
			t.Errorf("IsGuestCgroupName(%q) = %v, want %v", tc.elem, got, tc.want)
		}
	}
}
