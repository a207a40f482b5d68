package console

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/creack/pty"

	"vmlite/internal/testutil"
)

func countFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestNoLeaksAfterManyAttachCycles attaches and detaches 1000 times, in the
// three ways a client leaves (escape key, end of input with DetachOnEOF,
// hanging up the socket), and checks that goroutines and fds come back to
// where they were.
func TestNoLeaksAfterManyAttachCycles(t *testing.T) {
	const cycles = 1000
	f := newFixture(t, Config{})
	f.rawSlave(t)
	if _, err := f.slave.Write([]byte("boot log, replayed to every client\n")); err != nil {
		t.Fatal(err)
	}
	cycle := func(i int) {
		switch i % 3 {
		case 0, 1:
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			opts := AttachOptions{Name: "g1", Device: "console0"}
			if i%3 == 0 {
				_, err = w.Write([]byte("x\x1d"))
			} else {
				opts.DetachOnEOF = true
				_, err = w.Write([]byte("y"))
				w.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := Attach(context.Background(), f.sock, r, io.Discard, opts); err != nil {
				t.Fatalf("cycle %d: Attach = %v", i, err)
			}
			r.Close()
			w.Close()
		case 2:
			c, err := net.Dial("unix", f.sock)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		}
	}
	cycle(0) // warm up: lazily started runtime goroutines, the ring
	testutil.WaitFor(t, waitLong, "warm-up client gone", func() bool { return f.m.Clients() == 0 })
	runtime.GC()
	g0, fd0 := runtime.NumGoroutine(), countFds(t)

	for i := range cycles {
		cycle(i)
	}

	testutil.WaitFor(t, waitLong, "clients gone", func() bool { return f.m.Clients() == 0 })
	var g1, fd1 int
	testutil.WaitFor(t, waitLong, "goroutines and fds back to the baseline", func() bool {
		g1, fd1 = runtime.NumGoroutine(), countFds(t)
		return g1 <= g0 && fd1 <= fd0
	})
	t.Logf("after %d cycles: goroutines %d -> %d, fds %d -> %d", cycles, g0, g1, fd0, fd1)
}

// TestIdleConsoleCost measures what one idle console (Mux serving a socket,
// no client) costs the supervisor, before and after its ring fills.
func TestIdleConsoleCost(t *testing.T) {
	const n = 100
	dir := t.TempDir()
	measure := func() (goroutines int, bytes uint64) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc + ms.StackInuse
	}
	g0, m0 := measure()
	type console struct {
		m     *Mux
		slave *os.File
	}
	cs := make([]console, 0, n)
	t.Cleanup(func() {
		for _, c := range cs {
			if err := c.m.Close(); err != nil {
				t.Error(err)
			}
			c.slave.Close()
		}
	})
	for i := range n {
		master, slave, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewMux(Config{Master: master, Name: "g", LogPath: filepath.Join(dir, fmt.Sprintf("g%d.log", i))})
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, console{m, slave})
		l, err := Listen(filepath.Join(dir, "c"+string(rune('a'+i%26))+string(rune('a'+i/26))+".sock"))
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = m.Serve(l) }()
	}
	testutil.WaitFor(t, waitLong, "all pumps and accept loops running", func() bool {
		return runtime.NumGoroutine() >= g0+2*n
	})
	g1, m1 := measure()
	perG := float64(g1-g0) / n
	perM := float64(m1-m0) / n
	t.Logf("idle console, empty ring: %.1f goroutines, %.1f KiB (heap+stacks) each", perG, perM/1024)
	if perG != 2 {
		t.Fatalf("an idle console costs %.1f goroutines, want 2", perG)
	}

	// Fill every ring (the boot log of a chatty guest).
	line := make([]byte, 4096)
	for i := range line {
		line[i] = 'a' + byte(i%26)
	}
	for _, c := range cs {
		for range DefaultRingBytes / len(line) * 2 {
			if _, err := c.slave.Write(line); err != nil {
				t.Fatal(err)
			}
		}
	}
	testutil.WaitFor(t, waitLong, "rings full", func() bool {
		for _, c := range cs {
			c.m.mu.Lock()
			full := c.m.ring.Len() == DefaultRingBytes
			c.m.mu.Unlock()
			if !full {
				return false
			}
		}
		return true
	})
	_, m2 := measure()
	t.Logf("idle console, full ring: %.1f KiB each", float64(m2-m0)/n/1024)

	// One attached client on each (reading nothing new: an idle session).
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range cs {
		conn, err := net.Dial("unix", filepath.Join(dir, "c"+string(rune('a'+i%26))+string(rune('a'+i/26))+".sock"))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		// Read the replay, so that the writer's buffers are back to idle.
		d := NewDecoder(conn)
		for {
			fr, err := d.ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			if fr.Kind == FrameReplayed {
				break
			}
		}
	}
	testutil.WaitFor(t, waitLong, "clients attached", func() bool {
		for _, c := range cs {
			if c.m.Clients() != 1 {
				return false
			}
		}
		return true
	})
	g3, m3 := measure()
	t.Logf("one idle attached client: %.1f goroutines, %.1f KiB each (both ends in this process)",
		float64(g3-g1)/n, (float64(m3)-float64(m2))/n/1024)
}
