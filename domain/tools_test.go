package domain

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestToolShapes: documents shaped like what virt-install, Nova and
// libvirt's docs write parse, warn about exactly what vmlite (like
// libvirt's LXC driver) ignores, and keep what vmlite applies.
func TestToolShapes(t *testing.T) {
	for _, tc := range []struct {
		file  string
		warns []string // path prefixes that must be warned about, each once
		check func(t *testing.T, d *Domain)
	}{
		{"virt-install-container.xml", []string{
			"/domain/os/type/@arch", "/domain/clock/@offset", "/domain/devices/emulator", "/domain/devices/filesystem/@accessmode",
		}, func(t *testing.T, d *Domain) {
			if got := d.XML.Devices.Interfaces[0].MAC.Address; got != "52:54:00:3a:0f:c1" {
				t.Errorf("MAC %q, want libvirt's normalised 52:54:00:3a:0f:c1", got)
			}
		}},
		{"nova-lxc.xml", []string{
			"/domain/iothreads", "/domain/clock/@offset", "/domain/cpu", "/domain/devices/controller",
		}, func(t *testing.T, d *Domain) {
			if d.XML.OS.Cmdline != "console=tty0 console=ttyS0 console=hvc0" {
				t.Errorf("cmdline %q", d.XML.OS.Cmdline)
			}
			c := d.XML.Devices.Consoles[0]
			if c.Log == nil || !strings.HasSuffix(c.Log.File, "/console.log") || c.Log.Append != "off" {
				t.Errorf("console log %+v", c.Log)
			}
			if d.XML.Metadata == nil || !strings.Contains(d.XML.Metadata.XML, "nova:instance") {
				t.Errorf("Nova's metadata lost: %+v", d.XML.Metadata)
			}
		}},
		{"libvirt-docs-mixed.xml", []string{
			"/domain/clock/@offset", "/domain/clock/@timezone", "/domain/devices/emulator", "/domain/devices/filesystem/@accessmode",
			"/domain/devices/serial", "/domain/devices/console/target/@type", "/domain/devices/tty",
		}, func(t *testing.T, d *Domain) {
			c := d.XML.Features.Capabilities
			if c.MkNod == nil || c.MkNod.State != "on" || c.SysModule.State != "off" {
				t.Errorf("capabilities %+v %+v", c.MkNod, c.SysModule)
			}
			if len(d.XML.Devices.Consoles) != 1 || len(d.XML.Devices.Serials) != 1 {
				t.Errorf("consoles %d serials %d", len(d.XML.Devices.Consoles), len(d.XML.Devices.Serials))
			}
			out, err := d.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), "<tty") {
				t.Errorf("the unknown <tty/> is kept (libvirt drops it):\n%s", out)
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			d, warns, err := ParseFile(filepath.Join("testdata", "tools", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range warns {
				if !strings.Contains(w.String(), ": ignored: ") || !strings.HasPrefix(w.String(), filepath.Join("testdata", "tools", tc.file)+":") {
					t.Errorf("warning not FILE:LINE: /xpath: ignored: ...: %s", w)
				}
			}
			for _, want := range tc.warns {
				n := 0
				for _, w := range warns {
					if w.Path == want || strings.HasPrefix(w.Path, want+"/") {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d warnings about %s, want 1: %v", n, want, warns)
				}
			}
			if len(warns) != len(tc.warns) {
				t.Errorf("%d warnings, want %d: %v", len(warns), len(tc.warns), warns)
			}
			tc.check(t, d)
		})
	}
}

// TestElementClasses: one document per element whose class the rule moved,
// and what vmlite does with it.
func TestElementClasses(t *testing.T) {
	const head = `<domain type='lxc' xmlns:lxc='http://libvirt.org/schemas/domain/lxc/1.0'><name>n</name><os><type>exe</type><init>/sbin/init</init>`
	for _, tc := range []struct {
		name, os, body string
		warn           string // paths warned about, comma-separated; "" for none
		reject         string // substring of the error, "" when accepted
	}{
		{"cmdline applied", "<cmdline>console=tty0</cmdline>", "", "", ""},
		{"os loader ignored", "<loader>/x</loader>", "", "/domain/os/loader", ""},
		{"iothreads ignored", "", "<iothreads>2</iothreads>", "/domain/iothreads", ""},
		{"cpu ignored whole", "", "<cpu mode='host-model'><model fallback='allow'/><feature policy='require' name='x'/></cpu>", "/domain/cpu", ""},
		{"controller ignored", "", "<devices><controller type='usb' model='none'/></devices>", "/domain/devices/controller", ""},
		{"memballoon ignored", "", "<devices><memballoon model='virtio'/></devices>", "/domain/devices/memballoon", ""},
		{"graphics ignored", "", "<devices><graphics type='vnc' port='-1'/></devices>", "/domain/devices/graphics", ""},
		{"console without type", "", "<devices><console/></devices>", "", ""},
		{"console log applied", "", "<devices><console type='pty'><log file='/var/log/c.log' append='on'/></console></devices>", "", ""},
		{"console log relative", "", "<devices><console type='pty'><log file='c.log'/></console></devices>", "", "not an absolute path"},
		{"console file rejected", "", "<devices><console type='file'/></devices>", "", "consoles other than pty"},
		{"serial target", "", "<devices><console type='pty'><target type='serial'/></console></devices>", "/domain/devices/console/target/@type", ""},
		{"accessmode mapped", "", "<devices><filesystem accessmode='mapped'><source dir='/srv'/><target dir='/'/></filesystem></devices>", "/domain/devices/filesystem/@accessmode", ""},
		{"filesystem driver path", "", "<devices><filesystem><driver type='path'/><source dir='/srv'/><target dir='/'/></filesystem></devices>", "/domain/devices/filesystem/driver/@type", ""},
		{"clock timezone", "", "<clock offset='timezone' timezone='UTC'/>", "/domain/clock/@offset,/domain/clock/@timezone", ""},
		{"VM timer ignored with utc", "", "<clock offset='utc'><timer name='tsc'/></clock>", "/domain/clock/@offset,/domain/clock/timer/@name", ""},
		{"rtc ignored with utc", "", "<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>", "/domain/clock/@offset,/domain/clock/timer/@tickpolicy,/domain/clock/timer", ""},
		{"rtc and hpet with localtime", "", "<clock offset='localtime'><timer name='rtc'/><timer name='hpet' present='yes'/></clock>", "", ""},
		{"VM timer refused with localtime", "", "<clock offset='localtime'><timer name='rtc'/><timer name='pit'/></clock>", "", `/domain/clock/timer[2]/@name: not supported by vmlite: timer "pit"`},
		{"VM timer not present", "", "<clock offset='localtime'><timer name='kvmclock' present='no'/></clock>", "/domain/clock/timer/@name", ""},
		{"unknown timer", "", "<clock offset='localtime'><timer name='hpett'/></clock>", "", "did you mean"},
		{"capability without state", "", "<features><capabilities policy='deny'><net_admin/></capabilities></features>", "", ""},
		{"unknown capability", "", "<features><capabilities policy='deny'><bogus_cap/></capabilities></features>", "", "unknown element <bogus_cap>"},
		{"unknown element dropped", "", "<devices><tty/></devices>", "/domain/devices/tty", ""},
		{"unknown attribute dropped", "", "<devices><console type='pty' xyzzy='1'/></devices>", "/domain/devices/console/@xyzzy", ""},
		{"typo still an error", "", "<memroy>1</memroy>", "", "did you mean <memory>?"},
		{"attribute typo still an error", "", "<devices><console tpye='pty'/></devices>", "", "did you mean type=?"},
		{"foreign namespace dropped", "", "<x:y xmlns:x='urn:x'/>", "/domain/x:y", ""},
		{"vmlite namespace strict", "", "<metadata><vmlite:config xmlns:vmlite='urn:vmlite:domain:1'><vmlite:nope/></vmlite:config></metadata>", "", "unknown element <vmlite:nope>"},
		{"one-digit MAC", "", "<devices><interface type='ethernet'><mac address='52:54:0:a:b:c'/></interface></devices>", "", ""},
		{"bad MAC", "", "<devices><interface type='ethernet'><mac address='52:54:0:a:b:c:d'/></interface></devices>", "", "not a MAC address"},
		{"interface script rejected", "", "<devices><interface type='ethernet'><script path='/x'/></interface></devices>", "", "interface scripts"},
		{"interface model ignored", "", "<devices><interface type='ethernet'><model type='virtio'/></interface></devices>", "/domain/devices/interface/model", ""},
		{"image file on loop", "", "<devices><filesystem type='file' accessmode='passthrough'><driver type='loop' format='raw'/><source file='/srv/root.img'/><target dir='/'/></filesystem></devices>", "", ""},
		{"image file default driver", "", "<devices><filesystem type='file'><source file='/srv/data.img'/><target dir='/data'/><readonly/></filesystem></devices>", "", ""},
		{"image file on nbd", "", "<devices><filesystem type='file'><driver type='nbd' format='qcow2'/><source file='/srv/root.qcow2'/><target dir='/'/></filesystem></devices>", "", ""},
		{"nbd without format", "", "<devices><filesystem type='file'><driver type='nbd'/><source file='/srv/root.qcow2'/><target dir='/'/></filesystem></devices>", "", "an nbd image needs an explicit format"},
		{"loop with qcow2", "", "<devices><filesystem type='file'><driver type='loop' format='qcow2'/><source file='/srv/root.qcow2'/><target dir='/'/></filesystem></devices>", "", "raw images only"},
		{"loop on a directory", "", "<devices><filesystem type='mount'><driver type='loop'/><source dir='/srv'/><target dir='/'/></filesystem></devices>", "", "an image driver needs type='file'"},
		{"image without file", "", "<devices><filesystem type='file'><source dir='/srv'/><target dir='/'/></filesystem></devices>", "", "type='file' needs source/@file"},
		{"sharenet by name", "", "<lxc:namespace><lxc:sharenet type='name' value='web1'/><lxc:shareuts type='pid' value='42'/><lxc:shareipc type='name' value='web1'/></lxc:namespace>", "", ""},
		{"sharenet netns", "", "<lxc:namespace><lxc:sharenet type='netns' value='red'/></lxc:namespace>", "", ""},
		{"netns for uts", "", "<lxc:namespace><lxc:shareuts type='netns' value='red'/></lxc:namespace>", "", "applies to sharenet only"},
		{"bad pid", "", "<lxc:namespace><lxc:shareipc type='pid' value='x'/></lxc:namespace>", "", "not a process id"},
		{"unknown share", "", "<lxc:namespace><lxc:sharepid type='pid' value='1'/></lxc:namespace>", "", "unknown element <lxc:sharepid>"},
		{"sharenet with interface", "", "<devices><interface type='ethernet'/></devices><lxc:namespace><lxc:sharenet type='pid' value='1'/></lxc:namespace>", "", "no interfaces of its own"},
		{"sharenet with idmap", "", "<idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap><lxc:namespace><lxc:sharenet type='pid' value='1'/></lxc:namespace>", "", "cannot share a network namespace"},
		{"hostdev net", "", "<devices><hostdev mode='capabilities' type='net'><source><interface>eth3</interface></source><ip address='10.0.0.2' prefix='24'/><route gateway='10.0.0.1'/></hostdev></devices>", "", ""},
		{"hostdev net without interface", "", "<devices><hostdev mode='capabilities' type='net'><source/></hostdev></devices>", "", "needs <source><interface>"},
		{"ip on a storage hostdev", "", "<devices><hostdev mode='capabilities' type='storage'><source><block>/dev/sdb</block></source><ip address='10.0.0.2'/></hostdev></devices>", "", "type='net' hostdev only"},
		{"disk file rejected", "", "<devices><disk type='file'/></devices>", "", "disks other than block devices"},
		{"disk block applied", "", "<devices><disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/sdb'/><target dev='sdb' bus='virtio'/></disk></devices>", "/domain/devices/disk/driver,/domain/devices/disk/target/@bus", ""},
		{"disk without target", "", "<devices><disk type='block'><source dev='/dev/sdb'/></disk></devices>", "", "needs <target dev='sdX'/>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := head + tc.os + "</os>" + tc.body + "</domain>"
			_, warns, err := Parse("t.xml", []byte(doc))
			if tc.reject != "" {
				if err == nil || !strings.Contains(err.Error(), tc.reject) {
					t.Fatalf("error %v, want %q", err, tc.reject)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.warn == "" {
				if len(warns) != 0 {
					t.Errorf("warnings %v", warns)
				}
				return
			}
			var got []string
			for _, w := range warns {
				got = append(got, w.Path)
				if !strings.HasPrefix(w.Msg, "ignored: ") {
					t.Errorf("warning %s does not say ignored", w)
				}
			}
			if strings.Join(got, ",") != tc.warn {
				t.Errorf("warnings %v, want one about each of %s", warns, tc.warn)
			}
		})
	}
}
