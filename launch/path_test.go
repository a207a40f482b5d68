package launch

import (
	"strings"
	"testing"

	"vmlite/state"
)

// missingDirs is a fake Probe on which the given host directories do
// not exist.
type missingDirs struct {
	hostOf
	missing map[string]bool
}

func (m missingDirs) IsDir(p string) bool { return !m.missing[p] }

// TestBuildPaths: the builder names elements as the strict pass does
// (package xpath): an index only where siblings share a name, so one
// element reads the same whichever layer reports it.
func TestBuildPaths(t *testing.T) {
	for _, tc := range []struct {
		name, devices, want string
	}{
		{"one filesystem", ``, "/domain/devices/filesystem/source/@dir"},
		{"second of two", `<filesystem type='mount'><source dir='/srv/gone'/><target dir='/data'/></filesystem>`, "/domain/devices/filesystem[2]/source/@dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := parse(t, "g", "", "", tc.devices)
			o := opts(state.NewLayout(t.TempDir()))
			o.Probe = missingDirs{missing: map[string]bool{"/srv/g": tc.devices == "", "/srv/gone": true}}
			_, err := Build(d, o)
			if err == nil || !strings.Contains(err.Error(), tc.want+":") {
				t.Fatalf("Build = %v, want an error at %s", err, tc.want)
			}
		})
	}
	d := parse(t, "g", "", "", `<interface type='bridge'><source bridge='br0'/></interface><console type='pty'/>`)
	p, err := Build(d, opts(state.NewLayout(t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Interfaces[0].XMLPath + " " + p.Consoles[0].XMLPath + " " + p.Rootfs.XMLPath; got != "/domain/devices/interface /domain/devices/console /domain/devices/filesystem" {
		t.Fatalf("paths %s", got)
	}
}
