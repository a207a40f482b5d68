package launch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/internal/usbdev"
	"vmlite/state"
)

// TestBuildUSB: a <hostdev mode='subsystem' type='usb'> becomes the node of
// the device a (fake) sysfs lists, by ids or by address; a device the host
// lacks is an error naming the hostdev's source; the domain keeps its XML.
func TestBuildUSB(t *testing.T) {
	sys := t.TempDir()
	d := filepath.Join(sys, usbdev.DevicesDir, "3-1")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, v := range map[string]string{"idVendor": "0781", "idProduct": "5567", "busnum": "3", "devnum": "9"} {
		if err := os.WriteFile(filepath.Join(d, f), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, src, err string }{
		{"ids", `<vendor id='0x0781'/><product id='0x5567'/>`, ""},
		{"address", `<address bus='3' device='9'/>`, ""},
		{"missing", `<vendor id='0xdead'/><product id='0xbeef'/>`, "/domain/devices/hostdev/source: /domain/devices/hostdev: invalid argument: no USB device dead:beef on this host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dom := parse(t, "g", "", "", `<hostdev mode='subsystem' type='usb'><source>`+tc.src+`</source></hostdev>`)
			p, err := Build(dom, Options{Layout: state.NewLayout(t.TempDir()), Probe: fakeProbe{}, SysFS: sys})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Devices) != 1 || p.Devices[0].HostPath != "/dev/bus/usb/003/009" || p.Devices[0].GuestPath != "/dev/bus/usb/003/009" {
				t.Errorf("devices %+v", p.Devices)
			}
			if a := dom.XML.Devices.Hostdevs[0].SubsysUSB.Source.Address; tc.name == "ids" && a != nil {
				t.Errorf("Build changed the domain's XML: address %+v", a)
			}
		})
	}
}
