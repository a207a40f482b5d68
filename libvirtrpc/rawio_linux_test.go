package libvirtrpc

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// unixPair is a connected pair of unix stream sockets, the server's end
// first.
func unixPair(t *testing.T) (srv *net.UnixConn, cli net.Conn) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err = net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); cli.Close() })
	return c.(*net.UnixConn), cli
}

// TestRawIO: the raw reads and writes of a unix socket carry what
// net.Conn would: whole writes across a full socket buffer (the peer
// reading slowly), reads of what is there, EOF once the peer is gone,
// and the closed-connection error after Close.
func TestRawIO(t *testing.T) {
	srv, cli := unixPair(t)
	if newRawIO(srv) == nil && !raceEnabled {
		t.Fatal("no raw I/O for a unix socket")
	}
	r := makeRawIO(srv)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: more than the socket buffers
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(cli, int64(len(big))))
		got <- b
	}()
	if err := r.write(big); err != nil {
		t.Fatalf("write: %v", err)
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("the peer read %d bytes, not the %d written", len(b), len(big))
	}
	if _, err := cli.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	cli.Close()
	if n, err := r.Read(buf); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("Read after the peer closed = %d, %v; want EOF", n, err)
	}
	srv.Close()
	if _, err := r.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close: %v, want net.ErrClosed", err)
	}
}

// TestRawIOWriteTimeout: a peer that never reads makes a write fail once
// writeTimeout has passed with the socket full.
func TestRawIOWriteTimeout(t *testing.T) {
	old := writeTimeout
	writeTimeout = 200 * time.Millisecond
	t.Cleanup(func() { writeTimeout = old })
	srv, _ := unixPair(t)
	r := makeRawIO(srv)
	start := time.Now()
	err := r.write(make([]byte, 8<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that never reads: %v, want a deadline error", err)
	}
	if time.Since(start) < writeTimeout {
		t.Errorf("gave up after %v, before writeTimeout", time.Since(start))
	}
}
