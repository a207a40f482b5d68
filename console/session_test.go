package console

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestClientQueueDropsAndTells drives one client's queue directly: output
// beyond the bound is dropped, and the next output that fits is preceded by
// a marker with the exact count.
func TestClientQueueDropsAndTells(t *testing.T) {
	c := newClient(&Mux{cfg: Config{ClientQueueBytes: 300}}, nil)
	chunk := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

	c.enqueue(chunk('a', 100))
	c.enqueue(chunk('b', 100))
	c.enqueue(chunk('c', 150)) // 350 > 300: dropped
	c.enqueue(chunk('d', 50))  // no room for marker + chunk: dropped too
	if c.queued != 200 || c.dropped != 200 {
		t.Fatalf("queued %d, dropped %d; want 200, 200", c.queued, c.dropped)
	}

	frames, n := c.take(nil)
	if n != 200 {
		t.Fatalf("took %d bytes, want 200", n)
	}
	c.sent(n)
	if got := decodeData(t, frames); got != strings.Repeat("a", 100)+strings.Repeat("b", 100) {
		t.Fatalf("took %q", got)
	}

	c.enqueue(chunk('e', 10))
	frames, n = c.take(nil)
	c.sent(n)
	want := "\r\n[vmlite: 200 bytes of console output dropped: this client read too slowly]\r\n" + strings.Repeat("e", 10)
	if got := decodeData(t, frames); got != want {
		t.Fatalf("after catching up: %q, want %q", got, want)
	}
	if c.queued != 0 || c.dropped != 0 {
		t.Fatalf("queued %d, dropped %d after draining", c.queued, c.dropped)
	}
	select {
	case <-c.wake:
	default:
		t.Fatal("enqueue did not wake the writer")
	}
}

func decodeData(t *testing.T, b []byte) string {
	t.Helper()
	d := NewDecoder(bytes.NewReader(b))
	var out strings.Builder
	for {
		f, err := d.ReadFrame()
		if errors.Is(err, io.EOF) {
			return out.String()
		}
		if err != nil || f.Kind != FrameData {
			t.Fatalf("frame %v: %v", f.Kind, err)
		}
		out.Write(f.Payload)
	}
}
