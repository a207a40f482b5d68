package console

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestEpollReader: a terminal's input is read through the epoll instance:
// typed bytes arrive, a pending Read and every later one end with
// errCanceled after Cancel (input waiting or not), and a hung-up terminal
// reads as EOF. (Whether a Read already waits when the test acts is left
// to the scheduler: either way the result is the same; Attach's tests
// type into terminals a reader waits on.)
func TestEpollReader(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	if _, err := makeRaw(int(slave.Fd())); err != nil {
		t.Fatal(err)
	}
	in, err := newInputReader(slave, true)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := in.(*epollReader)
	if !ok {
		t.Fatalf("newInputReader(terminal) = %T, want *epollReader", in)
	}
	defer r.Close()
	type result struct {
		s   string
		err error
	}
	read := func() <-chan result {
		ch := make(chan result, 1)
		go func() {
			buf := make([]byte, 64)
			n, err := r.Read(buf)
			ch <- result{string(buf[:max(n, 0)]), err}
		}()
		return ch
	}
	wait := func(ch <-chan result) result {
		t.Helper()
		select {
		case res := <-ch:
			return res
		case <-time.After(waitLong):
			t.Fatal("Read did not return")
		}
		return result{}
	}
	pending := read()
	if _, err := master.Write([]byte("k")); err != nil {
		t.Fatal(err)
	}
	if res := wait(pending); res.s != "k" || res.err != nil {
		t.Errorf("Read = %q, %v; want the key", res.s, res.err)
	}
	pending = read()
	r.Cancel()
	if res := wait(pending); !errors.Is(res.err, errCanceled) {
		t.Errorf("pending Read after Cancel = %q, %v; want errCanceled", res.s, res.err)
	}
	if _, err := master.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	if res := wait(read()); !errors.Is(res.err, errCanceled) {
		t.Errorf("Read after Cancel with input waiting = %q, %v; want errCanceled", res.s, res.err)
	}

	// Hang-up: the terminal's master goes away.
	master2, slave2, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer slave2.Close()
	in2, err := newInputReader(slave2, true)
	if err != nil {
		t.Fatal(err)
	}
	defer in2.Close()
	r = in2.(*epollReader)
	pending = read()
	master2.Close()
	if res := wait(pending); !errors.Is(res.err, io.EOF) {
		t.Errorf("Read of a hung-up terminal = %q, %v; want EOF", res.s, res.err)
	}
	// Not a terminal: the poll-based reader.
	if in, err := newInputReader(master, false); err != nil {
		t.Fatal(err)
	} else if _, ok := in.(*fdReader); !ok {
		t.Errorf("newInputReader(not a terminal) = %T, want *fdReader", in)
	} else {
		in.Close()
	}
}
