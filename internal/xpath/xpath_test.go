package xpath

import "testing"

func TestPaths(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Child("/domain/devices", "interface", 0, 1), "/domain/devices/interface"},
		{Child("/domain/devices", "interface", 0, 2), "/domain/devices/interface[1]"},
		{Child("/domain/devices", "interface", 1, 2), "/domain/devices/interface[2]"},
		{Attr(Child("/domain/devices", "interface", 1, 3)+"/source", "bridge"), "/domain/devices/interface[2]/source/@bridge"},
		{Elem("/network/ip[2]/@address"), "/network/ip[2]"},
		{Elem("/network/ip[2]"), "/network/ip[2]"},
		{Elem("/domain/lxc:namespace/lxc:sharenet/@type"), "/domain/lxc:namespace/lxc:sharenet"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}
