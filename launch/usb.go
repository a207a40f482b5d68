package launch

import (
	"fmt"

	"libvirt.org/go/libvirtxml"

	"vmlite/internal/usbdev"
	"vmlite/internal/xpath"
	"vmlite/plan"
)

// buildUSB gives the guest the node of each <hostdev mode='subsystem'
// type='usb'>, found on the host as libvirt's LXC driver finds it
// (virUSBDeviceFind...): /dev/bus/usb/BBB/DDD, at the same path in the
// guest. A device the host does not have is an error naming the hostdev.
func buildUSB(p *plan.Plan, x *libvirtxml.Domain, sys string, add func(path, msg, value string)) {
	if x.Devices == nil {
		return
	}
	for i, h := range x.Devices.Hostdevs {
		xp := xpath.Child("/domain/devices", "hostdev", i, len(x.Devices.Hostdevs))
		if h.SubsysUSB != nil && h.SubsysUSB.Source != nil {
			// A copy: usbNode fills in the address, and Build leaves the
			// domain as it is.
			u, src := *h.SubsysUSB, *h.SubsysUSB.Source
			u.Source, h.SubsysUSB = &src, &u
		}
		n, ok, err := usbNode(h, xp, Options{SysFS: sys})
		if err != nil {
			add(xp+"/source", err.Error(), "")
			continue
		}
		if ok {
			p.Devices = append(p.Devices, n)
		}
	}
}

// usbNode is the node of a <hostdev mode='subsystem' type='usb'>, looked up
// in o.SysFS; false for another hostdev. Its source gets the device's
// address (the live XML names it so, as libvirt's does).
func usbNode(h libvirtxml.DomainHostdev, xp string, o Options) (plan.Device, bool, error) {
	if h.SubsysUSB == nil || h.SubsysUSB.Source == nil {
		return plan.Device{}, false, nil
	}
	src := h.SubsysUSB.Source
	var sel usbdev.Selector
	if src.Vendor != nil {
		sel.Vendor = src.Vendor.ID
	}
	if src.Product != nil {
		sel.Product = src.Product.ID
	}
	if a := src.Address; a != nil && a.Bus != nil && a.Device != nil {
		sel.HasAddress, sel.Bus, sel.Device = true, *a.Bus, *a.Device
	}
	sys := o.SysFS
	if sys == "" {
		sys = "/sys"
	}
	d, err := usbdev.Find(sys, sel)
	if err != nil {
		return plan.Device{}, false, fmt.Errorf("%s: %w", xp, err)
	}
	bus, dev := d.Bus, d.Device
	src.Address = &libvirtxml.DomainAddressUSB{Bus: &bus, Device: &dev}
	return plan.Device{HostPath: d.Node(), GuestPath: d.Node(), XMLPath: xp}, true, nil
}

// usbNodeByAddress is the node of a USB hostdev whose <address> is known
// (a running guest's live XML has it): nothing is looked up.
func usbNodeByAddress(h libvirtxml.DomainHostdev, xp string) (plan.Device, bool) {
	if h.SubsysUSB == nil || h.SubsysUSB.Source == nil || h.SubsysUSB.Source.Address == nil {
		return plan.Device{}, false
	}
	a := h.SubsysUSB.Source.Address
	if a.Bus == nil || a.Device == nil {
		return plan.Device{}, false
	}
	n := usbdev.NodePath(*a.Bus, *a.Device)
	return plan.Device{HostPath: n, GuestPath: n, XMLPath: xp}, true
}
