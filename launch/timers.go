package launch

import (
	"libvirt.org/go/libvirtxml"

	"vmlite/internal/xpath"
	"vmlite/plan"
)

// timerNodes are the host nodes libvirt's LXC driver passes for clock
// timers (virLXCControllerSetupTimers), and where the guest gets them.
var timerNodes = map[string][2]string{
	"rtc":  {"/dev/rtc0", "/dev/rtc"},
	"hpet": {"/dev/hpet", "/dev/hpet"},
}

// buildTimers passes <clock offset='localtime'>'s rtc and hpet timers as
// libvirt's LXC driver does: the host's node in the guest's /dev,
// read-only in its device cgroup (lxc_cgroup.c allows them read only). A
// host without the node fails the start naming the timer, as libvirt's
// "Unable to access". Other offsets pass none (domain warns).
func buildTimers(p *plan.Plan, x *libvirtxml.Domain) {
	if x.Clock == nil || x.Clock.Offset != "localtime" {
		return
	}
	for i, t := range x.Clock.Timer {
		n, ok := timerNodes[t.Name]
		if !ok || t.Present == "no" {
			continue // other names are refused by domain.Parse
		}
		p.Devices = append(p.Devices, plan.Device{HostPath: n[0], GuestPath: n[1], ReadOnly: true,
			XMLPath: xpath.Child("/domain/clock", "timer", i, len(x.Clock.Timer))})
	}
}
