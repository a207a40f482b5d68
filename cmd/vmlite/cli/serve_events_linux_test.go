package cli

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"vmlite/internal/testutil"
	"vmlite/libvirtrpc"
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
		// A transient network (net-create) is started and stopped, never
		// defined or undefined; defined while it runs, it is Defined.
		{"created", map[string]netSeen{}, map[string]netSeen{"n": {active: true}}, []libvirt.NetworkEventLifecycleType{libvirt.NetworkEventStarted}},
		{"transient gone", map[string]netSeen{"n": {active: true}}, map[string]netSeen{}, []libvirt.NetworkEventLifecycleType{libvirt.NetworkEventStopped}},
		{"made persistent", map[string]netSeen{"n": {active: true}}, map[string]netSeen{"n": {defined: true, defMtime: t0, active: true}}, []libvirt.NetworkEventLifecycleType{libvirt.NetworkEventDefined}},
		{"active gone", map[string]netSeen{"n": {defined: true, active: true}}, map[string]netSeen{}, []libvirt.NetworkEventLifecycleType{libvirt.NetworkEventStopped, libvirt.NetworkEventUndefined}},
	} {
		evs := diffNets(c.old, c.cur)
		var got []libvirt.NetworkEventLifecycleType
		for _, e := range evs {
			if !e.Network || e.Name != "n" {
				t.Errorf("%s: event %+v", c.name, e)
			}
			got = append(got, libvirt.NetworkEventLifecycleType(e.Type))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: events %v, want %v", c.name, got, c.want)
		}
	}
}

// TestEventsReaderGoneOnReturn: when Events returns, its inotify reader
// has ended and the instance is closed, in that order: a reader still in
// its poll (up to idleRescanEvery) would read from whatever file the
// kernel gave the closed number next (a client's connection).
func TestEventsReaderGoneOnReturn(t *testing.T) {
	b := cacheBackend(t, 1, false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Events(ctx, make(chan libvirtrpc.Event, 16))
	}()
	fd := -1
	testutil.WaitFor(t, 10*time.Second, "the event loop's watcher", func() bool {
		b.cache.mu.Lock()
		defer b.cache.mu.Unlock()
		fd = b.cache.fd
		return fd >= 0
	})
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Events did not return after its context ended")
	}
	buf := make([]byte, 1<<20)
	if st := string(buf[:runtime.Stack(buf, true)]); strings.Contains(st, "(*rpcBackend).Events") {
		t.Errorf("a goroutine of Events outlives it:\n%s", st)
	}
	if l, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); err == nil && strings.Contains(l, "inotify") {
		t.Errorf("the watcher's fd %d is still open after Events returned: %s", fd, l)
	}
}

// TestDiffGuestsStartedPaused: a guest started and suspended between two
// looks (a rescan without inotify) gets both events, in that order.
func TestDiffGuestsStartedPaused(t *testing.T) {
	evs := diffGuests(map[string]guestSeen{"g": {defined: true}}, map[string]guestSeen{"g": {defined: true, active: true, paused: true, id: 42}}, nil)
	var got []int32
	for _, e := range evs {
		got = append(got, e.Type)
	}
	if want := []int32{int32(libvirt.DomainEventStarted), int32(libvirt.DomainEventSuspended)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %v, want Started then Suspended %v", got, want)
	}
}
