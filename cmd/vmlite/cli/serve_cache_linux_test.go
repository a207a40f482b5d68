package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"vmlite/internal/testutil"
	"vmlite/libvirtrpc"
	"vmlite/service"
	"vmlite/state"
)

// cacheBackend is a serve backend on a fresh root with n defined guests
// (definitions written as `vmlite define` stores them), its event loop
// running when watch is set.
func cacheBackend(t testing.TB, n int, watch bool) *rpcBackend {
	t.Helper()
	root := t.TempDir()
	app := &App{Root: root, Layout: state.NewLayout(root), Stdout: io.Discard, Stderr: io.Discard}
	if err := os.MkdirAll(app.Layout.DomainsDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		writeDef(t, app.Layout, fmt.Sprintf("c%03d", i), i)
	}
	b, err := newRPCBackend(app)
	if err != nil {
		t.Fatal(err)
	}
	if watch {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		ch := make(chan libvirtrpc.Event, 1024)
		go func() {
			defer close(done)
			_ = b.Events(ctx, ch)
		}()
		go func() {
			for range ch {
			}
		}()
		t.Cleanup(func() { cancel(); <-done; close(ch) })
		testutil.WaitFor(t, 10*time.Second, "the event loop's watcher", func() bool {
			b.cache.mu.Lock()
			defer b.cache.mu.Unlock()
			return b.cache.fd >= 0
		})
	}
	return b
}

func writeDef(t testing.TB, l state.Layout, name string, i int) {
	t.Helper()
	x := fmt.Sprintf("<domain type='lxc'>\n  <name>%s</name>\n  <uuid>6f0e2c4a-0000-4000-8000-%012d</uuid>\n  <memory unit='KiB'>65536</memory>\n  <os><type>exe</type><init>/sbin/init</init></os>\n</domain>\n", name, i)
	if err := state.WriteFileAtomic(l.DomainFile(name), []byte(x), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServeCacheFresh: with the watcher running, lists and lookups come
// from memory, and a change made on disk by someone else (the CLI, a
// supervisor recording a guest's end) is in the very next answer, with no
// wait for the event loop.
func TestServeCacheFresh(t *testing.T) {
	b := cacheBackend(t, 3, true)
	l := b.app.Layout
	names := func() []string {
		t.Helper()
		ds, err := b.ListDomains()
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, d := range ds {
			ns = append(ns, d.Name)
		}
		return ns
	}
	if got := names(); len(got) != 3 {
		t.Fatalf("list: %v, want 3 guests", got)
	}
	b.cache.mu.Lock()
	cached := b.cache.rows != nil && !b.cache.stale
	b.cache.mu.Unlock()
	if !cached {
		t.Fatal("the list was not kept in memory while the watcher runs")
	}
	for round := range 20 {
		name := fmt.Sprintf("n%02d", round)
		writeDef(t, l, name, 100+round) // vmlite define
		if got := names(); len(got) != 4 {
			t.Fatalf("round %d: list right after a define: %v, want 4 guests", round, got)
		}
		// A supervisor records how the last run ended (a guest's own poweroff).
		if err := state.Write(l.LastFile(name), &state.State{Name: name, Status: state.Crashed, Reason: state.ReasonCrashed}); err != nil {
			t.Fatal(err)
		}
		d, err := b.LookupDomain(name)
		if err != nil || d.Reason != state.ReasonCrashed {
			t.Fatalf("round %d: lookup right after the last state was written: %+v, %v; want reason crashed", round, d, err)
		}
		if err := os.Remove(l.DomainFile(name)); err != nil { // vmlite undefine
			t.Fatal(err)
		}
		_ = os.Remove(l.LastFile(name))
		if got := names(); len(got) != 3 {
			t.Fatalf("round %d: list right after an undefine: %v, want 3 guests", round, got)
		}
		if _, err := b.LookupDomain(name); err == nil {
			t.Fatalf("round %d: lookup of an undefined guest succeeded", round)
		}
	}
}

// TestServeCacheNoWatcher: without the event loop's inotify instance
// every call reads the disk.
func TestServeCacheNoWatcher(t *testing.T) {
	b := cacheBackend(t, 2, false)
	if ds, err := b.ListDomains(); err != nil || len(ds) != 2 {
		t.Fatalf("list: %v, %v", ds, err)
	}
	writeDef(t, b.app.Layout, "late", 99)
	if ds, err := b.ListDomains(); err != nil || len(ds) != 3 {
		t.Fatalf("list after a define: %d guests, %v; want 3", len(ds), err)
	}
	if b.cache.rows != nil {
		t.Error("rows kept with no watcher to say when they go stale")
	}
}

// BenchmarkServeVirshList is the daemon's side of `virsh list --all`
// with 200 defined guests: LIST_ALL_DOMAINS, then a lookup (GET_STATE)
// per guest; from memory (watched) and from disk (no watcher).
func BenchmarkServeVirshList(b *testing.B) {
	for _, watch := range []bool{false, true} {
		b.Run(fmt.Sprintf("cached=%v", watch), func(b *testing.B) {
			be := cacheBackend(b, 200, watch)
			b.ResetTimer()
			for range b.N {
				ds, err := be.ListDomains()
				if err != nil || len(ds) != 200 {
					b.Fatalf("list: %d, %v", len(ds), err)
				}
				for _, d := range ds {
					if _, err := be.LookupDomain(d.Name); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// TestServeCacheOneGuest: a change to one guest (a define, an undefine,
// a runtime directory) is read back as that guest's row alone, not as a
// reload of every guest, and the rows are what a full list has; the
// event loop sees the new guest too (its Defined event).
func TestServeCacheOneGuest(t *testing.T) {
	root := t.TempDir()
	app := &App{Root: root, Layout: state.NewLayout(root), Stdout: io.Discard, Stderr: io.Discard}
	l := app.Layout
	if err := os.MkdirAll(l.DomainsDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		writeDef(t, l, fmt.Sprintf("c%03d", i), i)
	}
	b, err := newRPCBackend(app)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	evs := make(chan libvirtrpc.Event, 1024)
	go func() {
		defer close(done)
		_ = b.Events(ctx, evs)
	}()
	t.Cleanup(func() { cancel(); <-done })
	testutil.WaitFor(t, 10*time.Second, "the event loop's watcher", func() bool {
		b.cache.mu.Lock()
		defer b.cache.mu.Unlock()
		return b.cache.fd >= 0
	})
	names := func() string {
		t.Helper()
		ds, err := b.ListDomains()
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, d := range ds {
			ns = append(ns, d.Name)
		}
		return strings.Join(ns, " ")
	}
	full := func() uint64 {
		b.cache.mu.Lock()
		defer b.cache.mu.Unlock()
		return b.cache.full
	}
	names()
	before := full()
	writeDef(t, l, "c999", 999)
	if err := os.Remove(l.DomainFile("c003")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(l.RunDir("c010"), 0o711); err != nil { // a start's first step
		t.Fatal(err)
	}
	got := names()
	rows, err := b.svc.List(context.Background(), service.ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range rows {
		want = append(want, r.Name)
	}
	if got != strings.Join(want, " ") || !strings.Contains(got, "c999") || strings.Contains(got, "c003") {
		t.Errorf("cached names %q, want a full list's %q", got, strings.Join(want, " "))
	}
	if n := full(); n != before {
		t.Errorf("%d reloads of every guest for three guests' changes, want none", n-before)
	}
	testutil.WaitFor(t, 10*time.Second, "c999's Defined event", func() bool {
		for {
			select {
			case ev := <-evs:
				if ev.Name == "c999" && ev.Type == int32(libvirt.DomainEventDefined) {
					return true
				}
			default:
				return false
			}
		}
	})
}
