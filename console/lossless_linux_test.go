package console

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// dialLossless connects a raw client that asks for lossless output and
// waits until the Mux has it as such.
func dialLossless(t *testing.T, f *fixture) net.Conn {
	t.Helper()
	conn, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write(AppendFrame(nil, FrameLossless, nil)); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitLong, "the client registered as lossless", func() bool {
		f.m.mu.Lock()
		defer f.m.mu.Unlock()
		for c := range f.m.clients {
			if c.isLossless() {
				return true
			}
		}
		return false
	})
	return conn
}

// TestLosslessClient: a lossless client that does not read while the
// guest writes 16 times its queue loses nothing (the guest is held back);
// one that never reads is cut off after LosslessStall and the console
// flows again.
func TestLosslessClient(t *testing.T) {
	const queue = 64 << 10
	const total = 16 * queue
	var want bytes.Buffer
	for i := 0; want.Len() < total; i++ {
		fmt.Fprintf(&want, "line %08d\n", i)
	}
	out := want.Bytes()[:total]
	produce := func(f *fixture) chan error {
		done := make(chan error, 1)
		go func() {
			for off := 0; off < len(out); off += 4096 {
				if _, err := f.slave.Write(out[off:min(off+4096, len(out))]); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		return done
	}

	t.Run("slow reader gets every byte", func(t *testing.T) {
		f := newFixture(t, Config{ClientQueueBytes: queue, LosslessStall: time.Minute})
		f.rawSlave(t)
		conn := dialLossless(t, f)
		produced := produce(f)
		// Read nothing until the output has overrun the socket and the
		// queue, and held the guest back (how full the queue then is
		// depends on the sizes of the pty reads: not a condition).
		testutil.WaitFor(t, waitLong, "output held back for the client", func() bool {
			f.m.mu.Lock()
			defer f.m.mu.Unlock()
			for c := range f.m.clients {
				return c.heldBack.Load() > 0
			}
			return false
		})
		dec := NewDecoder(conn)
		var got []byte
		for len(got) < total {
			fr, err := dec.ReadFrame()
			if err != nil {
				t.Fatalf("after %d bytes: %v", len(got), err)
			}
			if fr.Kind == FrameData {
				got = append(got, fr.Payload...)
			}
		}
		if !bytes.Equal(got, out) {
			i := 0
			for i < len(got) && got[i] == out[i] {
				i++
			}
			t.Fatalf("lossless client got different output from byte %d: %q", i, got[i:min(i+80, len(got))])
		}
		if err := <-produced; err != nil {
			t.Fatal(err)
		}
	})

	t.Run("stalled reader is cut off", func(t *testing.T) {
		f := newFixture(t, Config{ClientQueueBytes: queue, LosslessStall: 200 * time.Millisecond})
		f.rawSlave(t)
		dialLossless(t, f)
		plain := f.attachPipe(t, AttachOptions{})
		waitClients(t, f.m, 2)
		produced := produce(f)
		select {
		case err := <-produced:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(waitLong):
			t.Fatal("the guest is still held back by a lossless client that stopped reading")
		}
		testutil.WaitFor(t, waitLong, "the stalled client disconnected", func() bool { return f.m.Clients() == 1 })
		// The console flows again: the ordinary client sees the end of the
		// output (what it was too slow for is dropped, as always).
		last := out[bytes.LastIndexByte(out[:len(out)-1], '\n')+1:]
		testutil.WaitFor(t, waitLong, "the other client gets the end of the output", func() bool {
			return bytes.Contains([]byte(plain.out.String()), last)
		})
	})
}
