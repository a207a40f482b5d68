package cli

import (
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

// TestDiffNets: defining (again), starting, stopping and undefining a
// network are libvirt's network lifecycle events; a redefinition is
// Defined again, as libvirt sends it.
func TestDiffNets(t *testing.T) {
	t0 := time.Unix(1000, 0)
	t1 := t0.Add(time.Second)
	for _, c := range []struct {
		name     string
		old, cur map[string]netSeen
		want     []libvirt.NetworkEventLifecycleType
	}{
		{"new", map[string]netSeen{}, map[string]netSeen{"n": {defined: true, defMtime: t0}}, []libvirt.NetworkEventLifecycleType{libvirt.NetworkEventDefined}},
		{"redefined", map[string]netSeen{"n": {defined: true, defMtime: t0}}, map[string]netSeen{"n": {defined: true, defMtime: t1}}, []libvirt.NetworkEventLifecycleType{libvirt.NetworkEventDefined}},
		{"unchanged", map[string]netSeen{"n": {defined: true, defMtime: t0}}, map[string]netSeen{"n": {defined: true, defMtime: t0}}, nil},
		{"started", map[string]netSeen{"n": {defined: true, defMtime: t0}}, map[string]netSeen{"n": {defined: true, defMtime: t0, active: true}}, []libvirt.NetworkEventLifecycleType{libvirt.NetworkEventStarted}},
		{"stopped", map[string]netSeen{"n": {defined: true, defMtime: t0, active: true}}, map[string]netSeen{"n": {defined: true, defMtime: t0}}, []libvirt.NetworkEventLifecycleType{libvirt.NetworkEventStopped}},
		{"undefined", map[string]netSeen{"n": {defined: true, defMtime: t0}}, map[string]netSeen{}, []libvirt.NetworkEventLifecycleType{libvirt.NetworkEventUndefined}},
	} {
		evs := diffNets(c.old, c.cur)
		var got []libvirt.NetworkEventLifecycleType
		for _, e := range evs {
			if !e.Network || e.Name != "n" {
				t.Errorf("%s: event %+v", c.name, e)
			}
			got = append(got, libvirt.NetworkEventLifecycleType(e.Type))
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%s: events %v, want %v", c.name, got, c.want)
		}
	}
}
