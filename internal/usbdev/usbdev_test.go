package usbdev

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
)

// fakeSys makes a sysfs tree with USB devices as the kernel lists them: a
// root hub, two devices of one vendor and product, one other, and an
// interface directory (which is not a device).
func fakeSys(t *testing.T) string {
	t.Helper()
	sys := t.TempDir()
	dev := func(name, vendor, product, bus, devnum string) {
		d := filepath.Join(sys, DevicesDir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for f, v := range map[string]string{"idVendor": vendor, "idProduct": product, "busnum": bus, "devnum": devnum} {
			if v == "" {
				continue
			}
			if err := os.WriteFile(filepath.Join(d, f), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	dev("usb1", "1d6b", "0002", "1", "1")
	dev("1-1", "0781", "5567", "1", "4")
	dev("1-2", "0781", "5567", "1", "7")
	dev("2-3", "046d", "c52b", "2", "12")
	dev("2-3:1.0", "", "", "", "") // an interface
	return sys
}

func TestFind(t *testing.T) {
	sys := fakeSys(t)
	for _, tc := range []struct {
		name string
		sel  Selector
		node string
		err  string
	}{
		{"vendor and product", Selector{Vendor: "0x046d", Product: "0xC52B"}, "/dev/bus/usb/002/012", ""},
		{"ids without 0x", Selector{Vendor: "46d", Product: "c52b"}, "/dev/bus/usb/002/012", ""},
		{"address", Selector{HasAddress: true, Bus: 1, Device: 7}, "/dev/bus/usb/001/007", ""},
		{"both", Selector{Vendor: "0x0781", Product: "0x5567", HasAddress: true, Bus: 1, Device: 4}, "/dev/bus/usb/001/004", ""},
		{"two of a kind", Selector{Vendor: "0x0781", Product: "0x5567"}, "", "2 USB devices 0781:5567 (bus 1 device 4, bus 1 device 7): add <address"},
		{"no such ids", Selector{Vendor: "0xdead", Product: "0xbeef"}, "", "no USB device dead:beef on this host"},
		{"no such address", Selector{HasAddress: true, Bus: 3, Device: 1}, "", "no USB device at bus 3 device 1"},
		{"ids at the wrong address", Selector{Vendor: "0x046d", Product: "0xc52b", HasAddress: true, Bus: 1, Device: 4}, "", "no USB device 046d:c52b at bus 1 device 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Find(sys, tc.sel)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, errdefs.ErrInvalid) {
					t.Errorf("got %v (%+v), want an ErrInvalid with %q", err, d, tc.err)
				}
				return
			}
			if err != nil || d.Node() != tc.node {
				t.Errorf("got %+v, %v; want %s", d, err, tc.node)
			}
		})
	}
	// A host without USB at all (no bus/usb in sysfs): no such device.
	if _, err := Find(t.TempDir(), Selector{Vendor: "1d6b", Product: "0002"}); err == nil || !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("no sysfs USB tree: %v", err)
	}
}
