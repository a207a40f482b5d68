package launch

import (
	"testing"

	"vmlite/state"
)

// TestLinkUp: libvirt's rule (lxcContainerRenameAndEnableInterfaces): a
// guest link comes up when it has addresses or <link state='up'/>. The plan
// said down for <link state='down'/> with an address while netdef brought
// it up.
func TestLinkUp(t *testing.T) {
	for _, c := range []struct {
		name, ifc string
		up        bool
	}{
		{"address", `<ip address='10.0.0.2' prefix='24'/>`, true},
		{"address, link down", `<ip address='10.0.0.2' prefix='24'/><link state='down'/>`, true},
		{"address, link up", `<ip address='10.0.0.2' prefix='24'/><link state='up'/>`, true},
		{"link up", `<link state='up'/>`, true},
		{"link down", `<link state='down'/>`, false},
		{"nothing", ``, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := parse(t, "g", "", "", `<interface type='bridge'><source bridge='br0'/>`+c.ifc+`</interface>`)
			p, err := Build(d, Options{Layout: state.NewLayout(t.TempDir()), Probe: fakeProbe{}})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Interfaces[0].Up(); got != c.up {
				t.Errorf("link up = %v, want %v", got, c.up)
			}
		})
	}
}
