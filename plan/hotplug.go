package plan

// DeviceChange is a device attached to, or detached from, a running guest
// (vmlite attach-device --live, detach-device --live): exactly one of Node
// and Interface, as launch builds it from the device XML, and the guest's
// live domain XML with the change made, which the supervisor records
// (dumpxml shows it) once the change is done.
type DeviceChange struct {
	// Node is a device node (a <disk type='block'>, a <hostdev>) in the
	// guest's /dev, allowed in its device allow-list. To detach, GuestPath
	// names it.
	Node *Device `json:"node,omitempty"`
	// Interface is a guest network interface. To detach, MAC names it.
	Interface *Interface `json:"interface,omitempty"`
	DomainXML string     `json:"domainXML"`
}
