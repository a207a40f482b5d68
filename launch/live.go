package launch

import (
	"fmt"
	"slices"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/guestnet/linkname"
	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// LiveDevice is the plan of a device attached to the running guest of
// plan p (attach-device --live), as Build would make it, or an error for a
// device libvirt's LXC driver cannot attach to a running container. A
// device that gets a name or MAC of its own (an interface without them)
// comes back in l with them filled in, for the live XML.
//
// What can be attached live is what libvirt's LXC driver attaches:
// <disk type='block'> (a node /dev/TARGET), <hostdev> of a block (storage),
// character (misc) or USB device (a node at its path), and <interface> of
// type bridge, network, ethernet or direct. Anything else is refused, with
// the fix.
func LiveDevice(p *plan.Plan, l *libvirtxml.DomainDeviceList, xmlPath string, o Options) (*plan.DeviceChange, error) {
	switch {
	case len(l.Disks) == 1:
		d := l.Disks[0]
		if d.Source == nil || d.Source.Block == nil {
			return nil, fmt.Errorf("%w: %s: only block disks can be attached to a running guest, as libvirt's LXC driver does", errdefs.ErrInvalid, xmlPath)
		}
		n, _ := diskNode(d, xmlPath)
		return &plan.DeviceChange{Node: &n}, nil
	case len(l.Hostdevs) == 1:
		h := l.Hostdevs[0]
		if h.CapsNet != nil {
			return nil, fmt.Errorf("%w: %s: a <hostdev type='net'> cannot be attached to a running guest (libvirt's LXC driver cannot either); fix: attach it with --config and restart the guest", errdefs.ErrInvalid, xmlPath)
		}
		n, ok, err := liveHostdevNode(h, xmlPath, o)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s: this hostdev cannot be attached to a running guest", errdefs.ErrInvalid, xmlPath)
		}
		return &plan.DeviceChange{Node: &n}, nil
	case len(l.Interfaces) == 1:
		if p.Shares("net") {
			return nil, fmt.Errorf("%w: %s: the guest shares another's network namespace (<lxc:sharenet>): it has no interfaces of its own", errdefs.ErrInvalid, xmlPath)
		}
		it, err := liveInterface(p, &l.Interfaces[0], xmlPath, o)
		if err != nil {
			return nil, err
		}
		return &plan.DeviceChange{Interface: &it}, nil
	case len(l.Filesystems) == 1:
		return nil, fmt.Errorf("%w: %s: a <filesystem> cannot be attached to or detached from a running guest (libvirt's LXC driver refuses it too); fix: --config, then restart the guest", errdefs.ErrInvalid, xmlPath)
	}
	return nil, fmt.Errorf("%w: %s: this device cannot be attached to or detached from a running guest (libvirt's LXC driver changes disks, interfaces and hostdevs only); fix: --config, then restart the guest", errdefs.ErrInvalid, xmlPath)
}

// liveHostdevNode is hostdevNode, with USB devices resolved on the host.
func liveHostdevNode(h libvirtxml.DomainHostdev, xp string, o Options) (plan.Device, bool, error) {
	if n, ok := hostdevNode(h, xp); ok {
		return n, true, nil
	}
	return usbNode(h, xp, o)
}

// liveInterface builds <interface> ifc for the running guest p: the first
// index from len(p.Interfaces) on whose host link name and MAC no
// interface of p has, the first ethN it has not, and its place on its
// managed network. Names and MAC chosen here are written into ifc.
func liveInterface(p *plan.Plan, ifc *libvirtxml.DomainInterface, xp string, o Options) (plan.Interface, error) {
	var bad error
	it := interfaceOf(*ifc, xp, func(path, msg, value string) {
		if bad == nil {
			bad = &domain.FieldError{Path: path, Msg: msg, Value: value}
		}
	})
	if bad != nil {
		return plan.Interface{}, bad
	}
	if it.Type == "" {
		return plan.Interface{}, fmt.Errorf("%w: %s: an interface needs a source (bridge, network, ethernet or direct)", errdefs.ErrInvalid, xp)
	}
	taken := func(f func(plan.Interface) bool) bool { return slices.ContainsFunc(p.Interfaces, f) }
	k := len(p.Interfaces)
	for taken(func(x plan.Interface) bool {
		return x.HostName == linkname.HostLinkName(p.Name, k) || x.MAC.String() == domain.DefaultMAC(p.UUID, k)
	}) {
		k++
	}
	if it.Type != "direct" {
		it.HostName = linkname.HostLinkName(p.Name, k)
		if ifc.Target != nil && ifc.Target.Dev != "" {
			it.HostName = ifc.Target.Dev
		} else {
			ifc.Target = &libvirtxml.DomainInterfaceTarget{Dev: it.HostName}
		}
	}
	if ifc.Guest != nil && ifc.Guest.Dev != "" {
		it.GuestName = ifc.Guest.Dev
	} else {
		for n := 0; ; n++ {
			name := fmt.Sprintf("eth%d", n)
			if !taken(func(x plan.Interface) bool { return x.GuestName == name }) {
				it.GuestName = name
				break
			}
		}
		ifc.Guest = &libvirtxml.DomainInterfaceGuest{Dev: it.GuestName}
	}
	if ifc.MAC == nil || ifc.MAC.Address == "" {
		ifc.MAC = &libvirtxml.DomainInterfaceMAC{Address: domain.DefaultMAC(p.UUID, k)}
	}
	mac, err := plan.ParseMAC(ifc.MAC.Address)
	if err != nil {
		return plan.Interface{}, &domain.FieldError{Path: xp + "/mac/@address", Msg: err.Error(), Value: ifc.MAC.Address}
	}
	it.MAC = mac
	hasDefault := false
	for _, x := range p.Interfaces {
		for _, r := range x.Routes {
			hasDefault = hasDefault || !r.Dest.IsValid()
		}
	}
	for _, r := range it.Routes {
		hasDefault = hasDefault || !r.Dest.IsValid()
	}
	if err := attachNetwork(p.UUID, &it, o.Networks, &hasDefault); err != nil {
		return plan.Interface{}, err
	}
	return it, nil
}

// LiveDetach names, for the supervisor, the device of a running guest that
// detach-device --live removes: l is its element as the live XML has it.
// What cannot be detached live is refused as LiveDevice refuses it.
func LiveDetach(l *libvirtxml.DomainDeviceList, xmlPath string, o Options) (*plan.DeviceChange, error) {
	switch {
	case len(l.Disks) == 1:
		n, ok := diskNode(l.Disks[0], xmlPath)
		if !ok {
			return nil, fmt.Errorf("%w: %s: only block disks are attached to a running guest", errdefs.ErrInvalid, xmlPath)
		}
		return &plan.DeviceChange{Node: &n}, nil
	case len(l.Hostdevs) == 1:
		h := l.Hostdevs[0]
		if n, ok := hostdevNode(h, xmlPath); ok {
			return &plan.DeviceChange{Node: &n}, nil
		}
		if n, ok := usbNodeByAddress(h, xmlPath); ok {
			return &plan.DeviceChange{Node: &n}, nil
		}
		if n, ok, err := usbNode(h, xmlPath, o); ok || err != nil {
			return &plan.DeviceChange{Node: &n}, err
		}
		return nil, fmt.Errorf("%w: %s: this hostdev cannot be detached from a running guest (libvirt's LXC driver cannot either); fix: --config, then restart the guest", errdefs.ErrInvalid, xmlPath)
	case len(l.Interfaces) == 1:
		i := l.Interfaces[0]
		if i.MAC == nil || i.MAC.Address == "" {
			return nil, fmt.Errorf("%s: the running guest's interface has no MAC", xmlPath)
		}
		mac, err := plan.ParseMAC(i.MAC.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: %s/mac/@address: %v", errdefs.ErrInvalid, xmlPath, err)
		}
		return &plan.DeviceChange{Interface: &plan.Interface{MAC: mac, XMLPath: xmlPath}}, nil
	}
	return LiveDevice(nil, l, xmlPath, Options{})
}
