// Package usbdev finds a host USB device as libvirt's virusb.c does, for a
// <hostdev mode='subsys' type='usb'>: in sysfs's /sys/bus/usb/devices, by
// vendor and product id, by bus and device number, or by both; the device
// node the guest gets is /dev/bus/usb/BBB/DDD.
package usbdev

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"vmlite/internal/errdefs"
)

// Selector names a device: Vendor and Product ids (hex, with or without
// 0x; "" for any), and with HasAddress its bus and device numbers.
type Selector struct {
	Vendor, Product string
	HasAddress      bool
	Bus, Device     uint
}

// Device is a USB device found in sysfs.
type Device struct {
	Bus, Device     uint
	Vendor, Product string // four hex digits, lower case
	// SysPath is its directory in sysfs.
	SysPath string
}

// Node is the device's node: /dev/bus/usb/BBB/DDD.
func (d Device) Node() string { return NodePath(d.Bus, d.Device) }

// NodePath is the node of device dev on bus bus.
func NodePath(bus, dev uint) string { return fmt.Sprintf("/dev/bus/usb/%03d/%03d", bus, dev) }

// DevicesDir is where sysfs lists USB devices, below its mount point.
const DevicesDir = "bus/usb/devices"

// Find returns the one device of the sysfs mounted at sys ("/sys") that s
// names. No device, or more than one for a vendor and product without an
// address (libvirt's "use <address> to specify one"), is an error of class
// errdefs.ErrInvalid naming the selector.
func Find(sys string, s Selector) (Device, error) {
	want := s.String()
	vendor, product := normID(s.Vendor), normID(s.Product)
	ents, err := os.ReadDir(filepath.Join(sys, DevicesDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Device{}, fmt.Errorf("look for USB device %s: %w", want, err)
	}
	var hits []Device
	for _, e := range ents {
		if strings.Contains(e.Name(), ":") {
			continue // an interface of a device, not a device
		}
		dir := filepath.Join(sys, DevicesDir, e.Name())
		d, ok := read(dir)
		if !ok {
			continue
		}
		if (vendor != "" && d.Vendor != vendor) || (product != "" && d.Product != product) {
			continue
		}
		if s.HasAddress && (d.Bus != s.Bus || d.Device != s.Device) {
			continue
		}
		hits = append(hits, d)
	}
	switch len(hits) {
	case 0:
		return Device{}, fmt.Errorf("%w: no USB device %s on this host (%s lists the host's; lsusb shows their ids)", errdefs.ErrInvalid, want, filepath.Join(sys, DevicesDir))
	case 1:
		return hits[0], nil
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].Node() < hits[j].Node() })
	var at []string
	for _, h := range hits {
		at = append(at, fmt.Sprintf("bus %d device %d", h.Bus, h.Device))
	}
	return Device{}, fmt.Errorf("%w: %d USB devices %s (%s): add <address bus='N' device='N'/> to name one", errdefs.ErrInvalid, len(hits), want, strings.Join(at, ", "))
}

// String describes the selector as messages name it.
func (s Selector) String() string {
	var parts []string
	if s.Vendor != "" || s.Product != "" {
		parts = append(parts, normID(s.Vendor)+":"+normID(s.Product))
	}
	if s.HasAddress {
		parts = append(parts, fmt.Sprintf("at bus %d device %d", s.Bus, s.Device))
	}
	return strings.Join(parts, " ")
}

// read reads the device in sysfs directory dir; false for anything that is
// not a device (no bus or device number).
func read(dir string) (Device, bool) {
	bus, ok1 := readUint(filepath.Join(dir, "busnum"))
	dev, ok2 := readUint(filepath.Join(dir, "devnum"))
	if !ok1 || !ok2 {
		return Device{}, false
	}
	return Device{Bus: bus, Device: dev, Vendor: readID(filepath.Join(dir, "idVendor")), Product: readID(filepath.Join(dir, "idProduct")), SysPath: dir}, true
}

func readUint(p string) (uint, bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	return uint(n), err == nil
}

func readID(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return normID(string(b))
}

// normID writes an id as four lower-case hex digits ("" stays "").
func normID(s string) string {
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "0x")
	if s == "" {
		return ""
	}
	n, err := strconv.ParseUint(s, 16, 16)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%04x", n)
}
