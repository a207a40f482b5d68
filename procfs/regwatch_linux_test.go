package procfs

import (
	"reflect"
	"sort"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
)

// TestViewWatched: with the registry watched, a registration, a
// re-registration and an unregistration are each seen at the next look,
// by reading that one entry, and the names gone are told.
func TestViewWatched(t *testing.T) {
	for _, mode := range []cgroup.Mode{cgroup.V1, cgroup.V2} {
		v, _ := fakeHost(t, mode, nil)
		var gone []string
		v.gone = func(names []string) { gone = append(gone, names...) }
		reloads := 0
		v.reloaded = func() { reloads++ }
		if err := v.Watch(); err != nil {
			t.Fatal(err)
		}
		if !v.registered("g") || reloads != 1 {
			t.Fatalf("%v: the first look reads the whole registry: g registered %v, %d full reloads", mode, v.has("g"), reloads)
		}
		for _, n := range []string{"h", "i"} {
			if err := v.layout.Register(Entry{Name: n, Partition: "/machine", CgroupDir: n}); err != nil {
				t.Fatal(err)
			}
		}
		if !v.registered("h") || !v.registered("i") || !v.registered("g") {
			t.Errorf("%v: after registering h and i: %v", mode, v.names())
		}
		if err := v.layout.Register(Entry{Name: "h", Partition: "/machine", CgroupDir: "h", InitPID: 42}); err != nil {
			t.Fatal(err)
		}
		v.Refresh()
		if err := v.layout.Unregister("i"); err != nil {
			t.Fatal(err)
		}
		v.Refresh()
		if got := v.names(); !reflect.DeepEqual(got, []string{"g", "h"}) {
			t.Errorf("%v: after unregistering i: %v", mode, got)
		}
		v.mu.Lock()
		var pid int
		for _, g := range v.byRel {
			if g.e.Name == "h" {
				pid = g.e.InitPID
			}
		}
		v.mu.Unlock()
		if pid != 42 {
			t.Errorf("%v: h re-registered with init 42, the view has %d", mode, pid)
		}
		if !reflect.DeepEqual(gone, []string{"i"}) {
			t.Errorf("%v: told gone %v, want [i]", mode, gone)
		}
		if reloads != 1 {
			t.Errorf("%v: %d full reloads, want only the first", mode, reloads)
		}
	}
}

// inotifyEvent is one event as the kernel writes it, its name padded.
func inotifyEvent(mask uint32, name string, pad int) []byte {
	n := len(name)
	if n > 0 {
		n += pad
	}
	e := unix.InotifyEvent{Wd: 1, Mask: mask, Len: uint32(n)}
	b := append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(&e)), inotifyHeader)...)
	b = append(b, name...)
	return append(b, make([]byte, n-len(name))...)
}

func TestParseInotify(t *testing.T) {
	var b []byte
	b = append(b, inotifyEvent(unix.IN_CREATE, ".g.tmp123", 7)...)
	b = append(b, inotifyEvent(unix.IN_MOVED_TO, "g", 15)...)
	b = append(b, inotifyEvent(unix.IN_DELETE, "h", 3)...)
	var ev regEvents
	if err := parseInotify(b, &ev); err != nil {
		t.Fatal(err)
	}
	sort.Strings(ev.names)
	if ev.all || !reflect.DeepEqual(ev.names, []string{"g", "h"}) {
		t.Errorf("events %+v", ev)
	}
	ev = regEvents{}
	if err := parseInotify(inotifyEvent(unix.IN_Q_OVERFLOW, "", 0), &ev); err != nil || !ev.all {
		t.Errorf("overflow: %+v, %v", ev, err)
	}
	if err := parseInotify(b[:len(b)-1], &ev); err == nil {
		t.Error("a cut event parsed")
	}
	if err := parseInotify(b[:5], &ev); err == nil {
		t.Error("a cut header parsed")
	}
}

// FuzzParseInotify: whatever a read returned, the parser stays inside it
// and never reports a dot file.
func FuzzParseInotify(f *testing.F) {
	f.Add(inotifyEvent(unix.IN_MOVED_TO, "g", 15))
	f.Add(append(inotifyEvent(unix.IN_DELETE, "h", 3), inotifyEvent(unix.IN_IGNORED, "", 0)...))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev regEvents
		if parseInotify(b, &ev) != nil {
			return
		}
		for _, n := range ev.names {
			if n == "" || n[0] == '.' || len(n) > len(b) {
				t.Fatalf("name %q", n)
			}
		}
	})
}
