package launch

import (
	"libvirt.org/go/libvirtxml"

	"vmlite/plan"
)

// usbNode is the node of a <hostdev mode='subsys' type='usb'>.
func usbNode(h libvirtxml.DomainHostdev, xp string, o Options) (plan.Device, bool, error) {
	return plan.Device{}, false, nil
}

// usbNodeByAddress is the node of a USB hostdev whose <address> is known.
func usbNodeByAddress(h libvirtxml.DomainHostdev, xp string) (plan.Device, bool) {
	return plan.Device{}, false
}
