package lxcconf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/internal/testutil"
)

// data holds libvirt's lxcconf2xml cases.
func data(t *testing.T) string {
	t.Helper()
	return filepath.Join(testutil.LibvirtData(t), "lxcconf2xmldata")
}

// TestLibvirtCases: libvirt's lxcconf2xml cases are the specification.
// Both key spellings of each case give the expected XML (uuid aside).
func TestLibvirtCases(t *testing.T) {
	want, _ := filepath.Glob(filepath.Join(data(t), "*.xml"))
	if len(want) == 0 {
		t.Fatalf("no lxcconf2xml cases in %s", data(t))
	}
	for _, xmlFile := range want {
		base := strings.TrimSuffix(xmlFile, ".xml")
		b, err := os.ReadFile(xmlFile)
		if err != nil {
			t.Fatal(err)
		}
		var exp libvirtxml.Domain
		if err := exp.Unmarshal(string(b)); err != nil {
			t.Fatal(err)
		}
		for _, cfg := range []string{base + ".config", base + "-v3.config"} {
			t.Run(filepath.Base(cfg), func(t *testing.T) {
				in, err := os.ReadFile(cfg)
				if err != nil {
					t.Fatal(err)
				}
				got, _, err := Convert(cfg, in)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := domain.ParseUUID(got.UUID); err != nil {
					t.Errorf("uuid %q: %v", got.UUID, err)
				}
				got.UUID = exp.UUID
				// Compare through XML as libvirt does: marshal ours and
				// read it back, so that both sides are decoded the same way.
				out, err := (&domain.Domain{XML: got}).Marshal()
				if err != nil {
					t.Fatal(err)
				}
				var back libvirtxml.Domain
				if err := back.Unmarshal(string(out)); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(&back, &exp) {
					t.Errorf("differs from %s:\n%s", xmlFile, out)
				}
			})
		}
	}
}

func TestFstabFails(t *testing.T) {
	for _, f := range []string{"lxcconf2xml-fstab.config", "lxcconf2xml-fstab-v3.config"} {
		in, err := os.ReadFile(filepath.Join(data(t), f))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = Convert(f, in)
		if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "fstab file") || !strings.Contains(err.Error(), f+":11:") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestConvertErrorsAndWarnings(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"lxc.network.link = br0\n", "comes before lxc.network.type"},
		{"lxc.net.0.type = bogus\n", `network type "bogus" is not supported`},
		{"lxc.mount.entry = tmpfs tmp tmpfs defaults 0 0\n", "missing tmpfs size"},
		{"lxc.mount.entry = server:/x mnt nfs defaults 0 0\n", `mount of type "nfs"`},
		{"lxc.idmap = u 0 100000\n", "expected 'u|g"},
		{"lxc.arch = vax\n", "unknown architecture"},
		{"lxc.cap.drop = sys_module bogus\n", "unknown capabilities bogus"},
		{"lxc.net.0.type = veth\nlxc.net.0.ipv4.address = 10.0.0.300/24\n", "not an address/prefix"},
		{"garbage\n", "not a key = value line"},
	} {
		_, _, err := Convert("c", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
	x, warns, err := Convert("c", []byte("lxc.uts.name = w\nlxc.rootfs.path = dir:/r\nlxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\nlxc.pts = 1024\nlxc.cgroup.devices.allow = c 1:3 rwm\nlxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.hwaddr = 52:54:00:xx:xx:xx\nlxc.net.0.veth.pair = vw\nlxc.net.0.mtu = 1400\nlxc.cgroup2.memory.max = 1G\nlxc.cgroup2.cpu.max = 50000 100000\nlxc.init.cmd = /lib/systemd/systemd --log-level=info\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 2 || !strings.Contains(warns[0].String(), "c:5: lxc.pts:") {
		t.Errorf("warnings %v", warns)
	}
	if x.Name != "w" || x.Devices.Filesystems[0].Source.Mount.Dir != "/r" || x.IDMap.UIDs[0] != (libvirtxml.DomainIDMapRange{Start: 0, Target: 100000, Count: 65536}) {
		t.Errorf("converted %+v", x)
	}
	ifc := x.Devices.Interfaces[0]
	if strings.Contains(ifc.MAC.Address, "x") || ifc.Target.Dev != "vw" || ifc.MTU.Size != 1400 || x.MemoryTune.HardLimit.Value != 1<<20 || x.CPUTune.Quota.Value != 50000 || x.OS.Init != "/lib/systemd/systemd" || len(x.OS.InitArgs) != 1 {
		t.Errorf("converted %+v", x)
	}
	out, err := (&domain.Domain{XML: x}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := domain.Parse("converted", out); err != nil {
		t.Errorf("converted XML is not valid for vmlite: %v\n%s", err, out)
	}
}

func TestNormaliseCPUSet(t *testing.T) {
	for in, want := range map[string]string{"1,2,5-7": "1-2,5-7", "0": "0", "3,1,2": "1-3", "0-1,4": "0-1,4"} {
		if got, err := normaliseCPUSet(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	if _, err := normaliseCPUSet("3-1"); err == nil {
		t.Error("3-1 accepted")
	}
}

// FuzzConvert: Convert never panics, and what it produces marshals.
func FuzzConvert(f *testing.F) {
	dir, _ := testutil.LibvirtDataDir() // seeds only: fuzzing goes on without them
	files, _ := filepath.Glob(filepath.Join(dir, "lxcconf2xmldata", "*.config"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		x, _, err := Convert("fuzz", in)
		if err != nil {
			return
		}
		if _, err := (&domain.Domain{XML: x}).Marshal(); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}
