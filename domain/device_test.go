package domain

import (
	"errors"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"
)

// TestParseDevice: a device file is one device element, checked as in a
// definition, its errors at the file's own lines.
func TestParseDevice(t *testing.T) {
	for _, tc := range []struct {
		name, doc, kind, err string
	}{
		{"disk", "<disk type='block'><source dev='/dev/sdb'/><target dev='sdb'/></disk>", "disk", ""},
		{"declaration", "<?xml version='1.0' encoding='UTF-8'?>\n<interface type='bridge'><source bridge='br0'/></interface>\n", "interface", ""},
		{"comment first", "<!-- a NIC -->\n<interface type='network'><source network='default'/></interface>", "interface", ""},
		{"usb", "<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>", "hostdev", ""},
		{"bad attribute at its line", "<disk type='block'>\n<source dev='/dev/sdb'/>\n<target dev='sdb' buss='x'/></disk>", "", "f.xml:3: /domain/devices/disk/target/@buss"},
		{"two devices", "<disk type='block'/>\n<disk type='block'/>", "", "f.xml:2: /disk: a device file holds one device element"},
		{"a domain", "<domain type='lxc'/>", "", "not <domain>"},
		{"empty", "  \n", "", "no device element"},
		{"text", "<disk type='block'><source dev='/dev/sdb'/><target dev='sdb'/></disk> junk", "", "text outside the device element"},
		{"syntax", "<disk type='block'>", "", "XML syntax error"},
		{"unknown element", "<gizmo/>", "", "<gizmo> is not a device"},
		{"rejected", "<disk type='file'><source file='/x'/><target dev='sdb'/></disk>", "", "disks other than block devices"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _, err := ParseDevice("f.xml", []byte(tc.doc))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %q", err, tc.err)
				}
				var fe *FieldError
				var es *Errors
				if !errors.As(err, &fe) && !errors.As(err, &es) {
					t.Errorf("%T is not a domain error", err)
				}
				return
			}
			if err != nil || d.Kind != tc.kind || deviceCount(d.List) != 1 {
				t.Fatalf("got %+v, %v", d, err)
			}
		})
	}
}

// TestFindDevice: devices are named as libvirt names them.
func TestFindDevice(t *testing.T) {
	def := `<domain type='lxc'><name>g</name><os><type>exe</type><init>/sbin/init</init></os><devices>
<disk type='block'><source dev='/dev/sdb'/><target dev='vdb'/></disk>
<interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/></interface>
<interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='br0'/></interface>
<interface type='network'><mac address='52:54:00:00:00:03'/><source network='default'/></interface>
<hostdev mode='capabilities' type='misc'><source><char>/dev/net/tun</char></source></hostdev>
<hostdev mode='subsystem' type='usb'><source><vendor id='0x0781'/><product id='0x5567'/><address bus='1' device='4'/></source></hostdev>
<filesystem type='ram'><source usage='1024'/><target dir='/tmp'/></filesystem>
</devices></domain>`
	d, _, err := Parse("def.xml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dev string
		index     int
		err       string
	}{
		{"disk by target", "<disk type='block'><source dev='/dev/other'/><target dev='vdb'/></disk>", 0, ""},
		{"no such disk", "<disk type='block'><source dev='/dev/sdb'/><target dev='vdz'/></disk>", -1, "/domain/devices/disk/target/@dev: the guest has no disk with target vdz"},
		{"interface by MAC", "<interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='br0'/></interface>", 1, ""},
		{"MAC in capitals", "<interface type='bridge'><mac address='52:54:00:00:00:02'/><source bridge='br0'/></interface>", 1, ""},
		{"interface by source", "<interface type='network'><source network='default'/></interface>", 2, ""},
		{"two on one bridge", "<interface type='bridge'><source bridge='br0'/></interface>", -1, "2 devices of the guest match bridge br0"},
		{"MAC on another source", "<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>", -1, "no interface with MAC 52:54:00:00:00:01, network default"},
		{"hostdev by source", "<hostdev mode='capabilities' type='misc'><source><char>/dev/net/tun</char></source></hostdev>", 0, ""},
		{"usb by ids", "<hostdev mode='subsystem' type='usb'><source><vendor id='0x781'/><product id='0x5567'/></source></hostdev>", 1, ""},
		{"usb by address", "<hostdev mode='subsystem' type='usb'><source><address bus='1' device='4'/></source></hostdev>", 1, ""},
		{"usb elsewhere", "<hostdev mode='subsystem' type='usb'><source><address bus='1' device='5'/></source></hostdev>", -1, "no hostdev with source usb"},
		{"filesystem by target", "<filesystem type='ram'><source usage='2048'/><target dir='/tmp/'/></filesystem>", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev, _, err := ParseDevice("dev.xml", []byte(strings.Replace(tc.dev, "52:54:00:00:00:02", strings.ToUpper("52:54:00:00:00:02"), 1)))
			if err != nil {
				t.Fatal(err)
			}
			i, err := FindDevice(d.XML, dev)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %d, %v; want %q", i, err, tc.err)
				}
				return
			}
			if err != nil || i != tc.index {
				t.Errorf("got %d, %v; want %d", i, err, tc.index)
			}
		})
	}
}

// TestAddRemoveDevice: an added device is the last of its kind, a keyed
// duplicate is refused, and a removed one is gone and returned.
func TestAddRemoveDevice(t *testing.T) {
	x := &libvirtxml.Domain{}
	disk, _, err := ParseDevice("d.xml", []byte("<disk type='block'><source dev='/dev/sdb'/><target dev='vdb'/></disk>"))
	if err != nil {
		t.Fatal(err)
	}
	nic, _, _ := ParseDevice("n.xml", []byte("<interface type='bridge'><source bridge='br0'/></interface>"))
	if err := AddDevice(x, disk); err != nil {
		t.Fatal(err)
	}
	if err := AddDevice(x, disk); err == nil || !strings.Contains(err.Error(), "the guest has this disk already (target vdb)") {
		t.Errorf("duplicate disk: %v", err)
	}
	for i := 0; i < 2; i++ { // two interfaces without MAC on one bridge are two interfaces
		if err := AddDevice(x, nic); err != nil {
			t.Fatal(err)
		}
	}
	if len(x.Devices.Disks) != 1 || len(x.Devices.Interfaces) != 2 {
		t.Fatalf("devices %+v", x.Devices)
	}
	got, err := RemoveDevice(x, disk)
	if err != nil || len(got.Disks) != 1 || got.Disks[0].Target.Dev != "vdb" || len(x.Devices.Disks) != 0 {
		t.Errorf("remove: %+v, %v; left %+v", got, err, x.Devices.Disks)
	}
	if _, err := RemoveDevice(x, disk); err == nil {
		t.Errorf("second remove succeeded")
	}
}

// TestParseDeviceKey: detach-device's lenient read names the device by
// its key alone, and refuses a file that names none.
func TestParseDeviceKey(t *testing.T) {
	for _, tc := range []struct{ doc, kind, err string }{
		{"<disk><target dev='vdb'/></disk>", "disk", ""},
		{"<interface type='bridge'><mac address='52:54:00:00:00:01'/></interface>", "interface", ""},
		{"<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>", "hostdev", ""},
		{"<disk type='block'/>", "", "does not name a device"},
		{"<disk><target dev='vdb'/></disk><disk/>", "", "one device element"},
		{"<gizmo/>", "", "names no device"},
	} {
		d, err := ParseDeviceKey("k.xml", []byte(tc.doc))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.doc, err, tc.err)
			}
			continue
		}
		if err != nil || d.Kind != tc.kind {
			t.Errorf("%s: %+v, %v", tc.doc, d, err)
		}
	}
}

// FuzzParseDevice: no device file makes ParseDevice panic, and a device
// it accepts is one device that AddDevice can add and RemoveDevice take
// away again.
func FuzzParseDevice(f *testing.F) {
	for _, s := range []string{
		"<disk type='block'><source dev='/dev/sdb'/><target dev='sdb'/><readonly/></disk>",
		"<?xml version='1.0'?><interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/></interface>",
		"<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/><product id='0x2'/></source></hostdev>",
		"<hostdev mode='capabilities' type='misc'><source><char>/dev/net/tun</char></source></hostdev>",
		"<filesystem type='ram'><source usage='1'/><target dir='/x'/></filesystem>",
		"<console type='pty'><target type='lxc' port='1'/></console>",
		"<disk/><disk/>", "</devices><devices>", "<graphics type='vnc'/>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if key, err := ParseDeviceKey("fuzz.xml", b); err == nil && (deviceCount(key.List) != 1 || !key.named()) {
			t.Fatalf("key accepted without a name: %+v", key)
		}
		dev, _, err := ParseDevice("fuzz.xml", b)
		if err != nil {
			return
		}
		if deviceCount(dev.List) != 1 {
			t.Fatalf("accepted %d devices", deviceCount(dev.List))
		}
		x := &libvirtxml.Domain{}
		if err := AddDevice(x, dev); err != nil {
			t.Fatalf("add: %v", err)
		}
		if _, err := RemoveDevice(x, dev); err != nil && dev.keyed() {
			t.Fatalf("remove of the device just added: %v", err)
		}
	})
}
