package console

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/creack/pty"
)

// TestRawOut: short and long writes to a terminal arrive whole and in
// order; a pipe, and a writer that is not a file, are used as they are.
func TestRawOut(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	if _, err := makeRaw(int(slave.Fd())); err != nil { // no newline translation
		t.Fatal(err)
	}
	out, done := outputWriter(slave)
	defer done()
	if _, ok := out.(rawOut); !ok {
		t.Fatalf("outputWriter(terminal) = %T, want rawOut", out)
	}
	sizes := []int{1, 3, rawOutMax, rawOutMax + 1, 100000, 2}
	total := 0
	for _, n := range sizes {
		total += n
	}
	got := make(chan []byte)
	go func() {
		var b []byte
		buf := make([]byte, 64<<10)
		for len(b) < total {
			n, err := master.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- b
	}()
	var want bytes.Buffer
	for _, n := range sizes {
		p := bytes.Repeat([]byte{byte('a' + n%26)}, n)
		want.Write(p)
		if m, err := out.Write(p); m != n || err != nil {
			t.Fatalf("Write of %d bytes = %d, %v", n, m, err)
		}
	}
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Errorf("read %d bytes, want %d in order", len(b), want.Len())
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if o, done := outputWriter(w); o != io.Writer(w) {
		t.Errorf("outputWriter(pipe) = %T, want the pipe itself", o)
	} else {
		done()
	}
	var buf bytes.Buffer
	if o, _ := outputWriter(&buf); o != io.Writer(&buf) {
		t.Error("outputWriter wrapped a writer that is not a file")
	}
}
