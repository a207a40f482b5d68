package console

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// socketPair returns the two ends of a connected unix stream socket, the
// first with a small send buffer so that writes to it fill it quickly.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f) // dups fd
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	return conns[0], conns[1]
}

// TestDirectWritesKeepTheStream drives a client the way broadcast does:
// each chunk goes straight to the socket when it can (writeNow), else to
// the queue. With chunks larger than the send buffer, direct writes end up
// partial and the next chunks queue behind them; the reader must still
// decode exactly the output, in order.
func TestDirectWritesKeepTheStream(t *testing.T) {
	server, peer := socketPair(t)
	m := &Mux{cfg: Config{ClientQueueBytes: 64 << 20}, clients: map[*client]struct{}{}}
	c := newClient(m, server)
	m.wg.Add(1)
	go c.writeLoop(nil)

	testutil.WaitFor(t, waitLong, "replay sent", func() bool {
		c.qmu.Lock()
		defer c.qmu.Unlock()
		return !c.busy
	})
	var got bytes.Buffer
	readDone := make(chan error, 1)
	go func() {
		d := NewDecoder(peer)
		for {
			f, err := d.ReadFrame()
			if err != nil {
				readDone <- err
				return
			}
			switch f.Kind {
			case FrameData:
				got.Write(f.Payload)
			case FrameReplayed:
			default:
				readDone <- errors.New("unexpected frame " + f.Kind.String())
				return
			}
		}
	}()

	var want bytes.Buffer
	var partials, queued int
	for i := range 200 {
		chunk := bytes.Repeat([]byte{byte('a' + i%26)}, 8000+50*i)
		want.Write(chunk)
		if i%2 == 0 {
			// Every other chunk finds the client idle, so that it is
			// written directly; the next one arrives while that is partial.
			testutil.WaitFor(t, waitLong, "client idle", func() bool {
				c.qmu.Lock()
				defer c.qmu.Unlock()
				return !c.busy && c.partial == nil && len(c.pending) == 0
			})
		}
		if c.writeNow(chunk) {
			c.qmu.Lock()
			if c.partial != nil {
				partials++
			}
			c.qmu.Unlock()
		} else {
			queued++
			c.enqueue(bytes.Clone(chunk))
		}
	}
	if partials == 0 || queued == 0 {
		t.Fatalf("%d partial direct writes, %d queued chunks: the test did not exercise both paths", partials, queued)
	}
	// Let writeLoop flush everything, then end the stream.
	c.stop("done")
	m.wg.Wait()
	if err := <-readDone; !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		// The stop frame is not data: the reader reports it as unexpected.
		if err.Error() != "unexpected frame stopped" {
			t.Fatalf("reader: %v", err)
		}
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("reader got %d bytes, want %d, or not the same bytes", got.Len(), want.Len())
	}
	t.Logf("%d partial direct writes, %d chunks queued", partials, queued)
}
