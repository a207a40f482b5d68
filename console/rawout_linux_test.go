package console

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// TestRawOut: short and long writes, to a pipe, arrive whole and in order,
// and a writer that is not a file is used as it is.
func TestRawOut(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := outputWriter(w)
	if _, ok := out.(rawOut); !ok {
		t.Fatalf("outputWriter(pipe) = %T, want rawOut", out)
	}
	var want bytes.Buffer
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		got <- b
	}()
	for _, n := range []int{1, 3, rawOutMax, rawOutMax + 1, 100000, 2} {
		p := bytes.Repeat([]byte{byte('a' + n%26)}, n)
		want.Write(p)
		if m, err := out.Write(p); m != n || err != nil {
			t.Fatalf("Write of %d bytes = %d, %v", n, m, err)
		}
	}
	w.Close()
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Errorf("read %d bytes, want %d in order", len(b), want.Len())
	}
	var buf bytes.Buffer
	if outputWriter(&buf) != io.Writer(&buf) {
		t.Error("outputWriter wrapped a writer that is not a file")
	}
}
