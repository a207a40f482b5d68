package launch

import (
	"testing"

	"vmlite/plan"
	"vmlite/state"
)

// TestBuildTimers: libvirt's LXC rule: with offset='localtime' the rtc and
// hpet timers (unless present='no') are the host's /dev/rtc0 and
// /dev/hpet, read-only, at /dev/rtc and /dev/hpet; with another offset,
// none.
func TestBuildTimers(t *testing.T) {
	for _, tc := range []struct {
		name, clock string
		want        []plan.Device
	}{
		{"localtime", "<clock offset='localtime'><timer name='rtc'/><timer name='hpet'/></clock>", []plan.Device{
			{HostPath: "/dev/rtc0", GuestPath: "/dev/rtc", ReadOnly: true, XMLPath: "/domain/clock/timer[1]"},
			{HostPath: "/dev/hpet", GuestPath: "/dev/hpet", ReadOnly: true, XMLPath: "/domain/clock/timer[2]"},
		}},
		{"not present", "<clock offset='localtime'><timer name='rtc' present='no'/><timer name='hpet'/></clock>", []plan.Device{
			{HostPath: "/dev/hpet", GuestPath: "/dev/hpet", ReadOnly: true, XMLPath: "/domain/clock/timer[2]"},
		}},
		{"utc", "<clock offset='utc'><timer name='rtc'/></clock>", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := parse(t, "g", "", tc.clock, "")
			p, err := Build(d, Options{Layout: state.NewLayout(t.TempDir()), Probe: fakeProbe{}})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Devices) != len(tc.want) {
				t.Fatalf("devices %+v, want %+v", p.Devices, tc.want)
			}
			for i := range tc.want {
				if p.Devices[i] != tc.want[i] {
					t.Errorf("device %d: %+v, want %+v", i, p.Devices[i], tc.want[i])
				}
				if p.Devices[i].Access() != "rm" {
					t.Errorf("device %d access %s, want rm", i, p.Devices[i].Access())
				}
			}
		})
	}
}
