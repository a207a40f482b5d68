//go:build integration

package integration

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"vmlite/internal/testutil"
)

// TestServeLoad, at the size: 50 clients at once list the guests
// and ask each one's info in a loop (a new connection per round), while
// 20 guests start and stop underneath through the CLI (4 at a time, so
// events flow too): no call fails, and afterwards the daemon holds no
// more fds, connections or goroutines than before.
func TestServeLoad(t *testing.T) {
	const clients, guests, parallel = 50, 20, 4
	h := newHarness(t)
	d := h.serve()
	pid := d.cmd.Process.Pid
	var names []string
	for i := 0; i < guests; i++ {
		n := h.uniqueName(fmt.Sprintf("it-rpcld%d", i))
		xml, _ := h.busybox(n, false)
		h.must("define", xml)
		names = append(names, n)
	}
	// One idle connection first, so that the baseline counts the
	// daemon's steady state (listeners, inotify, the event watcher).
	warm := goLibvirt(t, d)
	if _, _, err := warm.ConnectListAllDomains(1, 0); err != nil {
		t.Fatal(err)
	}
	baseConns, baseGs := d.stats()
	baseFDs := fdCount(t, pid)

	var calls, failures atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		failures.Add(1)
		firstErr.CompareAndSwap(nil, err)
	}
	rounds := make([]atomic.Int64, clients)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	u, _ := url.Parse(d.uri(d.rw))
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				l, err := libvirt.ConnectToURI(u)
				if err != nil {
					fail(err)
					continue
				}
				doms, _, err := l.ConnectListAllDomains(1, libvirt.ConnectListDomainsActive|libvirt.ConnectListDomainsInactive)
				calls.Add(1)
				if err != nil {
					fail(err)
				}
				for _, dom := range doms {
					if _, _, _, _, _, err := l.DomainGetInfo(dom); err != nil {
						fail(fmt.Errorf("info %s: %w", dom.Name, err))
					}
					calls.Add(1)
				}
				_ = l.Disconnect()
				rounds[c].Add(1)
			}
		}()
	}
	allRan := func(n int64) func() bool {
		return func() bool {
			for i := range rounds {
				if rounds[i].Load() < n {
					return false
				}
			}
			return true
		}
	}
	// Every client is in its loop before the guests move.
	testutil.WaitFor(t, 120*time.Second, "every client to finish a round", allRan(1))
	each := func(verb string) {
		work := make(chan string)
		var ops sync.WaitGroup
		for w := 0; w < parallel; w++ {
			ops.Add(1)
			go func() {
				defer ops.Done()
				for n := range work {
					if r := h.run(verb, n); r.code != 0 {
						fail(fmt.Errorf("vmlite %s %s: %v", verb, n, r))
					}
				}
			}()
		}
		for _, n := range names {
			work <- n
		}
		close(work)
		ops.Wait()
	}
	start := time.Now()
	each("start")
	each("destroy")
	churn := time.Since(start)
	// And every client went on working while they did.
	before := make([]int64, clients)
	for i := range rounds {
		before[i] = rounds[i].Load()
	}
	testutil.WaitFor(t, 120*time.Second, "every client to finish one more round", func() bool {
		for i := range rounds {
			if rounds[i].Load() <= before[i] {
				return false
			}
		}
		return true
	})
	close(stop)
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Errorf("%d of %d calls failed; first: %v", f, calls.Load(), firstErr.Load())
	}
	t.Logf("%d calls by %d clients while %d guests started and stopped (%v)", calls.Load(), clients, guests, churn.Round(time.Millisecond))
	testutil.WaitFor(t, 30*time.Second, fmt.Sprintf("the daemon's fds back to %d", baseFDs), func() bool { return fdCount(t, pid) <= baseFDs })
	testutil.WaitFor(t, 30*time.Second, fmt.Sprintf("the daemon's connections and goroutines back to %d and %d", baseConns, baseGs), func() bool {
		conns, gs := d.stats()
		return conns <= baseConns && gs <= baseGs
	})
}

// TestServeFaults: malformed frames, a client that vanishes in the middle
// of a console stream and a client that never reads its replies: the
// daemon stays up and serves the others, and the guest's console is
// undisturbed.
func TestServeFaults(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("it-rpcflt")
	xml, _ := h.busybox(name, false)
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	for _, frame := range [][]byte{
		binary.BigEndian.AppendUint32(nil, 3),                               // shorter than a header
		binary.BigEndian.AppendUint32(nil, 0xffffffff),                      // beyond 16 MiB
		append(binary.BigEndian.AppendUint32(nil, 40), make([]byte, 10)...), // cut short
	} {
		c, err := net.Dial("unix", d.rw)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(frame)
		c.Close()
	}
	// A console client that goes away without finishing its stream.
	l := goLibvirt(t, d)
	dom, err := l.DomainLookupByName(name)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Dial("unix", d.rw)
	if err != nil {
		t.Fatal(err)
	}
	call := func(proc int32, serial uint32, body []byte) {
		b := binary.BigEndian.AppendUint32(nil, uint32(28+len(body)))
		for _, w := range []uint32{0x20008086, 1, uint32(proc), 0, serial, 0} {
			b = binary.BigEndian.AppendUint32(b, w)
		}
		if _, err := raw.Write(append(b, body...)); err != nil {
			t.Fatal(err)
		}
		// Calls run concurrently in the daemon: wait for each reply.
		var hdr [28]byte
		_ = raw.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.ReadFull(raw, hdr[:]); err != nil {
			t.Fatalf("reply to %d: %v", proc, err)
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if _, err := io.CopyN(io.Discard, raw, int64(n)-28); err != nil {
			t.Fatal(err)
		}
		if st := binary.BigEndian.Uint32(hdr[24:]); st != 0 {
			t.Fatalf("reply to %d: status %d", proc, st)
		}
	}
	call(1, 1, make([]byte, 8)) // CONNECT_OPEN, NULL name
	var open []byte
	open = binary.BigEndian.AppendUint32(open, uint32(len(dom.Name)))
	open = append(open, dom.Name...)
	for len(open)%4 != 0 {
		open = append(open, 0)
	}
	open = append(open, dom.UUID[:]...)
	open = binary.BigEndian.AppendUint32(open, uint32(dom.ID))
	open = append(open, make([]byte, 8)...) // dev_name NULL, flags 0
	call(201, 2, open)                      // DOMAIN_OPEN_CONSOLE
	testutil.WaitFor(t, 30*time.Second, "the raw console client to attach", func() bool {
		return strings.Contains(h.must("status", name).stdout, "console0, 1 client(s)")
	})
	raw.Close() // vanishes mid-stream
	testutil.WaitFor(t, 30*time.Second, "the daemon to let go of the vanished console client", func() bool {
		return strings.Contains(h.must("status", name).stdout, "console0, 0 client(s)")
	})
	// A client that never reads: its calls' replies pile up unread.
	stalled, err := net.Dial("unix", d.rw)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	// The others are served, the console still works.
	if _, _, err := l.ConnectListAllDomains(1, 0); err != nil {
		t.Errorf("after the faults: %v", err)
	}
	if r := d.virsh(d.rw, "domstate", name); r.code != 0 {
		t.Errorf("virsh after the faults: %v", r)
	}
	h.must("exec", name, "--", "sh", "-c", "echo after-faults > /dev/console")
	h.waitConsole(name, "after-faults")
	h.must("destroy", name)
}
