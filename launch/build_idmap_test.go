package launch

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"vmlite/domain"
	"vmlite/internal/caps"
	"vmlite/plan"
	"vmlite/state"
)

// fakeProbe answers every host question without touching the host.
type fakeProbe struct{}

func (fakeProbe) IsDir(string) bool                     { return true }
func (fakeProbe) InitKind(string, string) plan.InitKind { return plan.InitBusybox }
func (fakeProbe) Perm(string) (fs.FileMode, bool)       { return 0o755, true }
func (fakeProbe) IsFile(string) bool                    { return true }

func build(t *testing.T, idmap, features, meta string) *plan.Plan {
	t.Helper()
	doc := `<domain type='lxc'><name>g</name><memory>65536</memory>` + meta + `
  <os><type>exe</type><init>/sbin/init</init></os>` + features + idmap + `
  <devices>
    <filesystem type='mount'><source dir='/srv/g'/><target dir='/'/></filesystem>
    <filesystem type='mount'><source dir='/srv/data'/><target dir='/data'/></filesystem>
    <filesystem type='ram'><source usage='1024'/><target dir='/scratch'/></filesystem>
  </devices>
</domain>`
	d, _, err := domain.Parse("g.xml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(d, Options{Layout: state.NewLayout(t.TempDir()), Probe: fakeProbe{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const stdIDMap = `<idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap>`

// TestBuildIDMap: what launch.Build derives from <idmap> and its metadata.
func TestBuildIDMap(t *testing.T) {
	p := build(t, stdIDMap, "", `<metadata><vmlite:config xmlns:vmlite="urn:vmlite:domain:1"><vmlite:idmap allowOverlap="yes" shift="chown"/></vmlite:config></metadata>`)
	if !p.IDMap.Enabled() || !p.IDMap.AllowOverlap || !p.IDMap.ForceChown {
		t.Errorf("idmap %+v", p.IDMap)
	}
	if !p.Rootfs.IDMapped || p.Paths.ShiftDir == "" {
		t.Errorf("rootfs %+v, shift dir %q", p.Rootfs, p.Paths.ShiftDir)
	}
	for _, m := range p.Mounts {
		if m.IDMapped != (m.Kind == plan.MountBind) {
			t.Errorf("mount %s (%s): idmapped %v", m.Target, m.Kind, m.IDMapped)
		}
	}
	plain := build(t, "", "", "")
	if plain.IDMap.Enabled() || plain.Rootfs.IDMapped || slices.ContainsFunc(plain.Mounts, func(m plan.Mount) bool { return m.IDMapped }) {
		t.Errorf("a guest without <idmap> got idmapped mounts: %+v %+v", plain.Rootfs, plain.Mounts)
	}
}

// TestBuildCapabilities: a guest whose root is the host's loses
// caps.UnmappedDrop too, unless its XML turns one on; a mapped guest keeps
// them.
func TestBuildCapabilities(t *testing.T) {
	for _, tc := range []struct {
		name, idmap, features string
		dropped, kept         []string
	}{
		{"unmapped", "", "", append([]string{"CAP_SYS_MODULE", "CAP_MKNOD"}, caps.UnmappedDrop...), []string{"CAP_SYS_BOOT", "CAP_NET_ADMIN"}},
		{"mapped", stdIDMap, "", []string{"CAP_SYS_MODULE", "CAP_MKNOD"}, caps.UnmappedDrop},
		{"unmapped, sys_admin on", "", "<features><capabilities policy='default'><sys_admin state='on'/></capabilities></features>",
			[]string{"CAP_DAC_READ_SEARCH", "CAP_SYS_MODULE"}, []string{"CAP_SYS_ADMIN"}},
		{"unmapped, allow policy", "", "<features><capabilities policy='allow'><mknod state='off'/></capabilities></features>",
			[]string{"CAP_MKNOD"}, []string{"CAP_SYS_ADMIN", "CAP_SYS_MODULE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drop := build(t, tc.idmap, tc.features, "").Capabilities.Drop
			for _, c := range tc.dropped {
				if !slices.Contains(drop, c) {
					t.Errorf("%s kept, want it dropped (drop: %s)", c, strings.Join(drop, " "))
				}
			}
			for _, c := range tc.kept {
				if slices.Contains(drop, c) {
					t.Errorf("%s dropped, want it kept", c)
				}
			}
		})
	}
}
