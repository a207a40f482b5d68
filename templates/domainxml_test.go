package templates

import (
	"errors"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/internal/errdefs"
)

func TestDomainXML(t *testing.T) {
	tests := []struct {
		name  string
		cfg   DomainConfig
		idmap bool
	}{
		{
			name:  "busybox default",
			cfg:   DomainConfig{Name: "bb", RootDir: "/var/lib/guests/bb", MemoryKiB: BusyboxMemoryKiB, IDMap: &IDMap{Target: DefaultIDMapTarget, Count: DefaultIDMapCount}},
			idmap: true,
		},
		{
			name: "no idmap",
			cfg:  DomainConfig{Name: "priv", RootDir: "/srv/priv", MemoryKiB: 1 << 20, Init: "/lib/systemd/systemd"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := DomainXML(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			// Round trip through libvirt's wire structs.
			var d libvirtxml.Domain
			if err := d.Unmarshal(s); err != nil {
				t.Fatalf("unmarshal: %v\n%s", err, s)
			}
			again, err := d.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if again+"\n" != s {
				t.Errorf("round trip changed the XML:\n%s\nvs\n%s", s, again)
			}
			init := tc.cfg.Init
			if init == "" {
				init = "/sbin/init"
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"type", d.Type, "lxc"},
				{"name", d.Name, tc.cfg.Name},
				{"memory", d.Memory.Value, uint(tc.cfg.MemoryKiB)},
				{"memory unit", d.Memory.Unit, "KiB"},
				{"os type", d.OS.Type.Type, "exe"},
				{"init", d.OS.Init, init},
				{"on_poweroff", d.OnPoweroff, "destroy"},
				{"on_reboot", d.OnReboot, "restart"},
				{"on_crash", d.OnCrash, "destroy"},
				{"filesystems", len(d.Devices.Filesystems), 1},
				{"fs source", d.Devices.Filesystems[0].Source.Mount.Dir, tc.cfg.RootDir},
				{"fs target", d.Devices.Filesystems[0].Target.Dir, "/"},
				{"consoles", len(d.Devices.Consoles), 1},
				{"console pty", d.Devices.Consoles[0].Source != nil && d.Devices.Consoles[0].Source.Pty != nil, true},
				{"console target", d.Devices.Consoles[0].Target.Type, "lxc"},
				{"console port", *d.Devices.Consoles[0].Target.Port, uint(0)},
				{"idmap present", d.IDMap != nil, tc.idmap},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
			for _, want := range []string{`<filesystem type="mount">`, `<console type="pty">`} {
				if !strings.Contains(s, want) {
					t.Errorf("XML lacks %s:\n%s", want, s)
				}
			}
			if tc.idmap {
				want := libvirtxml.DomainIDMapRange{Start: 0, Target: DefaultIDMapTarget, Count: DefaultIDMapCount}
				if len(d.IDMap.UIDs) != 1 || d.IDMap.UIDs[0] != want || len(d.IDMap.GIDs) != 1 || d.IDMap.GIDs[0] != want {
					t.Errorf("idmap = %+v, want uid and gid %+v", d.IDMap, want)
				}
			}
			// vmlite's own reader takes it without complaint.
			if _, warns, err := domain.Parse("template.xml", []byte(s)); err != nil || len(warns) > 0 {
				t.Errorf("domain.Parse: %v, warnings %v", err, warns)
			}
		})
	}
}

func TestDomainXMLRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  DomainConfig
	}{
		{"relative root", DomainConfig{Name: "x", RootDir: "rel/dir", MemoryKiB: 1024}},
		{"empty name", DomainConfig{RootDir: "/x", MemoryKiB: 1024}},
		{"slash in name", DomainConfig{Name: "a/b", RootDir: "/x", MemoryKiB: 1024}},
		{"dotdot name", DomainConfig{Name: "..", RootDir: "/x", MemoryKiB: 1024}},
		{"zero idmap", DomainConfig{Name: "x", RootDir: "/x", MemoryKiB: 1024, IDMap: &IDMap{Target: 1}}},
	}
	for _, tc := range tests {
		if _, err := DomainXML(tc.cfg); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestNameFromDir(t *testing.T) {
	for in, want := range map[string]string{"/var/lib/bb": "bb", "/var/lib/bb/": "bb", "rel/guest": "guest"} {
		if got := NameFromDir(in); got != want {
			t.Errorf("NameFromDir(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDomainXMLSysAdmin: an unmapped guest that asks for CAP_SYS_ADMIN keeps
// it through <features><capabilities>; a mapped guest never needs it.
func TestDomainXMLSysAdmin(t *testing.T) {
	for _, tt := range []struct {
		name  string
		idmap *IDMap
		want  bool
	}{{"unmapped", nil, true}, {"mapped", &IDMap{Target: DefaultIDMapTarget, Count: DefaultIDMapCount}, false}} {
		t.Run(tt.name, func(t *testing.T) {
			x, err := DomainXML(DomainConfig{Name: "g", RootDir: "/srv/g", MemoryKiB: 1024, IDMap: tt.idmap, SysAdmin: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(x, `<sys_admin state="on"></sys_admin>`); got != tt.want {
				t.Errorf("sys_admin kept = %v, want %v:\n%s", got, tt.want, x)
			}
		})
	}
}
