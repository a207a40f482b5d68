package domain

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// The device operations of attach-device, detach-device and
// update-device on a definition's <devices>: pure edits of the libvirtxml
// structs. The caller parses the result again (Parse), so that a device
// that conflicts with the rest of the definition (a second filesystem on
// one target, a duplicate MAC) is refused with its path before anything is
// stored or applied.

// deviceField returns the field of l that holds dev's device, and whether
// it is a slice (else a pointer).
func deviceField(l *libvirtxml.DomainDeviceList, dev *Device) (reflect.Value, reflect.Value, error) {
	dv := reflect.ValueOf(dev.List).Elem()
	lv := reflect.ValueOf(l).Elem()
	for i := 0; i < dv.NumField(); i++ {
		f := dv.Field(i)
		if (f.Kind() == reflect.Slice && f.Len() == 1) || (f.Kind() == reflect.Pointer && !f.IsNil()) {
			return lv.Field(i), f, nil
		}
	}
	return reflect.Value{}, reflect.Value{}, fmt.Errorf("%s: <%s>: not a device element", dev.File, dev.Kind)
}

// AddDevice appends dev to the devices of x. A disk whose target, or a
// hostdev whose source, the definition has already is refused, as
// libvirt does; other conflicts are Parse's to find.
func AddDevice(x *libvirtxml.Domain, dev *Device) error {
	if x.Devices == nil {
		x.Devices = &libvirtxml.DomainDeviceList{}
	}
	if i, _ := FindDevice(x, dev); i >= 0 && dev.keyed() {
		return dev.errorf("/domain/devices/"+dev.Kind, "detach it first, or give another "+dev.key(), "the guest has this %s already (%s)", dev.Kind, dev.identity())
	}
	to, from, err := deviceField(x.Devices, dev)
	if err != nil {
		return err
	}
	if from.Kind() == reflect.Slice {
		to.Set(reflect.AppendSlice(to, from))
		return nil
	}
	if !to.IsNil() {
		return dev.errorf("/domain/devices/"+dev.Kind, "detach it first", "the guest has a <%s> already, and can have only one", dev.Kind)
	}
	to.Set(from)
	return nil
}

// FindDevice returns the index of the device of x that dev names (among the
// devices of its kind), -1 and an error naming the key when none or more
// than one does. How a device is named is libvirt's: a disk by its target,
// an interface by its MAC (and whatever else of its source and names the
// file gives), a hostdev by its source, a filesystem by its target; any
// other device by all of its XML.
func FindDevice(x *libvirtxml.Domain, dev *Device) (int, error) {
	path := "/domain/devices/" + dev.Kind
	if x.Devices == nil {
		return -1, dev.errorf(path, "", "the guest has no devices")
	}
	have, one, err := deviceField(x.Devices, dev)
	if err != nil {
		return -1, err
	}
	if one.Kind() == reflect.Pointer {
		if have.IsNil() {
			return -1, dev.errorf(path, "", "the guest has no <%s>", dev.Kind)
		}
		return 0, nil
	}
	want := one.Index(0).Interface()
	var hits []int
	for i := 0; i < have.Len(); i++ {
		if matches(want, have.Index(i).Interface()) {
			hits = append(hits, i)
		}
	}
	switch len(hits) {
	case 0:
		return -1, dev.errorf(path+dev.keyPath(), "compare with `vmlite dumpxml` (--inactive for the stored definition)", "the guest has no %s with %s", dev.Kind, dev.identity())
	case 1:
		return hits[0], nil
	}
	return -1, dev.errorf(path, "name it exactly: give its "+dev.key(), "%d devices of the guest match %s", len(hits), dev.identity())
}

// RemoveDevice removes the device of x that dev names (FindDevice) and
// returns it, as a one-device list.
func RemoveDevice(x *libvirtxml.Domain, dev *Device) (*libvirtxml.DomainDeviceList, error) {
	i, err := FindDevice(x, dev)
	if err != nil {
		return nil, err
	}
	return RemoveDeviceAt(x, dev, i)
}

// RemoveDeviceAt removes the i-th device of dev's kind from x (an index
// FindDevice returned, maybe on a normalised copy of x).
func RemoveDeviceAt(x *libvirtxml.Domain, dev *Device, i int) (*libvirtxml.DomainDeviceList, error) {
	if x.Devices == nil {
		return nil, dev.errorf("/domain/devices", "", "the guest has no devices")
	}
	have, _, err := deviceField(x.Devices, dev)
	if err != nil {
		return nil, err
	}
	if have.Kind() == reflect.Slice && (i < 0 || i >= have.Len()) {
		return nil, fmt.Errorf("device index %d out of range", i)
	}
	out := &libvirtxml.DomainDeviceList{}
	ov := reflect.ValueOf(out).Elem()
	idx := fieldIndex(x.Devices, have)
	if have.Kind() == reflect.Pointer {
		ov.Field(idx).Set(have)
		have.Set(reflect.Zero(have.Type()))
		return out, nil
	}
	ov.Field(idx).Set(reflect.Append(reflect.MakeSlice(have.Type(), 0, 1), have.Index(i)))
	rest := reflect.AppendSlice(reflect.MakeSlice(have.Type(), 0, have.Len()-1), have.Slice(0, i))
	have.Set(reflect.AppendSlice(rest, have.Slice(i+1, have.Len())))
	return out, nil
}

// ReplaceInterface puts dev, an <interface>, in the place of the i-th
// interface of x (update-device: libvirt's LXC driver updates interfaces
// only).
func ReplaceInterface(x *libvirtxml.Domain, dev *Device, i int) error {
	if dev.Kind != "interface" {
		return dev.errorf("/domain/devices/"+dev.Kind, "detach the device and attach the new one", "update-device changes interfaces only, as libvirt's LXC driver does")
	}
	if x.Devices == nil || i < 0 || i >= len(x.Devices.Interfaces) {
		return fmt.Errorf("interface index %d out of range", i)
	}
	x.Devices.Interfaces[i] = dev.List.Interfaces[0]
	return nil
}

// InterfaceKey is the device that names the interface dev replaces: its
// MAC alone (update-device changes everything else).
func InterfaceKey(dev *Device) (*Device, error) {
	if dev.Kind != "interface" {
		return nil, dev.errorf("/domain/devices/"+dev.Kind, "detach the device and attach the new one", "update-device changes interfaces only, as libvirt's LXC driver does")
	}
	m := dev.List.Interfaces[0].MAC
	if m == nil || m.Address == "" {
		return nil, dev.errorf("/domain/devices/interface/mac", "give the interface's <mac address='...'/> as `vmlite dumpxml --inactive` shows it", "update-device names the interface to replace by its MAC")
	}
	return &Device{Kind: dev.Kind, File: dev.File, List: &libvirtxml.DomainDeviceList{Interfaces: []libvirtxml.DomainInterface{{MAC: m}}}}, nil
}

func fieldIndex(l *libvirtxml.DomainDeviceList, f reflect.Value) int {
	lv := reflect.ValueOf(l).Elem()
	for i := 0; i < lv.NumField(); i++ {
		if lv.Field(i).Addr().Pointer() == f.Addr().Pointer() {
			return i
		}
	}
	return -1
}

// matches reports whether the device have is the one want names.
func matches(want, have any) bool {
	switch w := want.(type) {
	case libvirtxml.DomainDisk:
		h := have.(libvirtxml.DomainDisk)
		return w.Target != nil && h.Target != nil && w.Target.Dev == h.Target.Dev
	case libvirtxml.DomainFilesystem:
		h := have.(libvirtxml.DomainFilesystem)
		return w.Target != nil && h.Target != nil && filepath.Clean(w.Target.Dir) == filepath.Clean(h.Target.Dir)
	case libvirtxml.DomainInterface:
		return interfaceMatches(w, have.(libvirtxml.DomainInterface))
	case libvirtxml.DomainHostdev:
		h := have.(libvirtxml.DomainHostdev)
		if w.SubsysUSB != nil && w.SubsysUSB.Source != nil {
			return h.SubsysUSB != nil && h.SubsysUSB.Source != nil && usbMatches(w.SubsysUSB.Source, h.SubsysUSB.Source)
		}
		return hostdevKey(w) != "" && hostdevKey(w) == hostdevKey(h)
	}
	return reflect.DeepEqual(want, have)
}

// interfaceMatches: every name the file gives must be the interface's.
func interfaceMatches(w, h libvirtxml.DomainInterface) bool {
	if w.MAC != nil && w.MAC.Address != "" && (h.MAC == nil || !strings.EqualFold(NormalizeMAC(w.MAC.Address), NormalizeMAC(h.MAC.Address))) {
		return false
	}
	if w.Target != nil && w.Target.Dev != "" && (h.Target == nil || h.Target.Dev != w.Target.Dev) {
		return false
	}
	if w.Guest != nil && w.Guest.Dev != "" && (h.Guest == nil || h.Guest.Dev != w.Guest.Dev) {
		return false
	}
	return interfaceSource(w) == "" || interfaceSource(w) == interfaceSource(h)
}

// interfaceSource names an interface's source: its type and bridge,
// network or device.
func interfaceSource(i libvirtxml.DomainInterface) string {
	s := i.Source
	switch {
	case s == nil:
		return ""
	case s.Bridge != nil && s.Bridge.Bridge != "":
		return "bridge " + s.Bridge.Bridge
	case s.Network != nil && s.Network.Network != "":
		return "network " + s.Network.Network
	case s.Direct != nil && s.Direct.Dev != "":
		return "direct " + s.Direct.Dev
	case s.Ethernet != nil:
		return "ethernet"
	}
	return ""
}

// hostdevKey names a hostdev by its source ("" when it has none vmlite
// knows).
func hostdevKey(h libvirtxml.DomainHostdev) string {
	switch {
	case h.CapsStorage != nil && h.CapsStorage.Source != nil:
		return "storage " + h.CapsStorage.Source.Block
	case h.CapsMisc != nil && h.CapsMisc.Source != nil:
		return "misc " + h.CapsMisc.Source.Char
	case h.CapsNet != nil && h.CapsNet.Source != nil:
		return "net " + h.CapsNet.Source.Interface
	case h.SubsysUSB != nil && h.SubsysUSB.Source != nil:
		return "usb " + usbKey(h.SubsysUSB.Source)
	}
	return ""
}

// usbMatches: what the file gives of a USB source (ids, address) is the
// device's; the live XML has both, the file may give either.
func usbMatches(w, h *libvirtxml.DomainHostdevSubsysUSBSource) bool {
	id := func(v *libvirtxml.DomainHostDevProductVendorID) string {
		if v == nil {
			return ""
		}
		h := strings.TrimPrefix(strings.ToLower(v.ID), "0x")
		if n, err := strconv.ParseUint(h, 16, 16); err == nil {
			return strconv.FormatUint(n, 16)
		}
		return h
	}
	if id(w.Vendor) != "" && (id(w.Vendor) != id(h.Vendor) || id(w.Product) != id(h.Product)) {
		return false
	}
	if a := w.Address; a != nil && a.Bus != nil && a.Device != nil {
		b := h.Address
		if b == nil || b.Bus == nil || b.Device == nil || *a.Bus != *b.Bus || *a.Device != *b.Device {
			return false
		}
	}
	return id(w.Vendor) != "" || w.Address != nil
}

// usbKey names a USB source by vendor and product, else by address.
func usbKey(s *libvirtxml.DomainHostdevSubsysUSBSource) string {
	k := ""
	if s.Vendor != nil || s.Product != nil {
		v, p := "", ""
		if s.Vendor != nil {
			v = strings.ToLower(s.Vendor.ID)
		}
		if s.Product != nil {
			p = strings.ToLower(s.Product.ID)
		}
		k = "id " + v + ":" + p
	}
	if a := s.Address; a != nil && a.Bus != nil && a.Device != nil {
		k += fmt.Sprintf(" address %d:%d", *a.Bus, *a.Device)
	}
	return k
}

// identity describes the device as its key says it, for messages.
func (d *Device) identity() string {
	switch d.Kind {
	case "disk":
		if t := d.List.Disks[0].Target; t != nil {
			return "target " + t.Dev
		}
	case "filesystem":
		if t := d.List.Filesystems[0].Target; t != nil {
			return "target " + t.Dir
		}
	case "interface":
		i := d.List.Interfaces[0]
		var parts []string
		if i.MAC != nil && i.MAC.Address != "" {
			parts = append(parts, "MAC "+NormalizeMAC(i.MAC.Address))
		}
		if s := interfaceSource(i); s != "" {
			parts = append(parts, s)
		}
		if i.Target != nil && i.Target.Dev != "" {
			parts = append(parts, "target "+i.Target.Dev)
		}
		if i.Guest != nil && i.Guest.Dev != "" {
			parts = append(parts, "guest name "+i.Guest.Dev)
		}
		if len(parts) == 0 {
			return "no MAC or source given"
		}
		return strings.Join(parts, ", ")
	case "hostdev":
		if k := hostdevKey(d.List.Hostdevs[0]); k != "" {
			return "source " + k
		}
	}
	return "this XML"
}

// keyed reports whether dev names one device by a key that two devices
// cannot share (an interface without a MAC names any on its source).
func (d *Device) keyed() bool {
	switch d.Kind {
	case "disk", "filesystem", "hostdev":
		return true
	case "interface":
		m := d.List.Interfaces[0].MAC
		return m != nil && m.Address != ""
	}
	return false
}

// key is what names a device of d's kind, for hints.
func (d *Device) key() string {
	switch d.Kind {
	case "disk":
		return "<target dev='...'/>"
	case "filesystem":
		return "<target dir='...'/>"
	case "interface":
		return "<mac address='...'/>"
	case "hostdev":
		return "<source>"
	}
	return "device XML exactly as `vmlite dumpxml` shows it"
}

// keyPath is the path below the device element of its key.
func (d *Device) keyPath() string {
	switch d.Kind {
	case "disk":
		return "/target/@dev"
	case "filesystem":
		return "/target/@dir"
	case "interface":
		if i := d.List.Interfaces[0]; i.MAC != nil && i.MAC.Address != "" {
			return "/mac/@address"
		}
	case "hostdev":
		return "/source"
	}
	return ""
}

func (d *Device) errorf(path, hint, format string, args ...any) error {
	return &FieldError{File: d.File, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint}
}
