package console

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"
)

// writeCounter records each Write it gets.
type writeCounter struct{ writes [][]byte }

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

// TestCopyOutputCoalesces checks that data frames that arrive together reach
// the terminal in one write, that a frame of another kind ends the run, and
// that the bytes and their order are kept.
func TestCopyOutputCoalesces(t *testing.T) {
	tests := []struct {
		name   string
		sends  [][]byte // each one conn.Write
		writes []string // the writes out must see
	}{
		{"three frames in one read", [][]byte{
			AppendFrame(AppendFrame(AppendFrame(nil, FrameData, []byte("ab")), FrameData, []byte("cd")), FrameData, []byte("ef")),
		}, []string{"abcdef"}},
		{"replay marker splits", [][]byte{
			AppendFrame(AppendFrame(AppendFrame(nil, FrameData, []byte("boot")), FrameReplayed, nil), FrameData, []byte("live")),
		}, []string{"boot", "live"}},
		{"frames in separate reads", [][]byte{
			AppendFrame(nil, FrameData, []byte("one")),
			AppendFrame(nil, FrameData, []byte("two")),
		}, []string{"one", "two"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			out := &writeCounter{}
			var last atomic.Int64
			var stopMsg string
			done := make(chan error, 1)
			go func() { done <- copyOutput(client, out, &stopMsg, &last, make(chan struct{})) }()
			for _, b := range tc.sends {
				// net.Pipe hands each Write to one Read whole (it fits the
				// 32 KiB buffer), so frames sent together arrive together.
				if _, err := server.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := server.Write(AppendFrame(nil, FrameStopped, []byte("bye"))); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("copyOutput: %v", err)
			}
			server.Close()
			client.Close()
			var got []string
			for _, w := range out.writes {
				got = append(got, string(w))
			}
			if len(got) != len(tc.writes) {
				t.Fatalf("writes %q, want %q", got, tc.writes)
			}
			for i := range got {
				if got[i] != tc.writes[i] {
					t.Fatalf("writes %q, want %q", got, tc.writes)
				}
			}
			if stopMsg != "bye" {
				t.Fatalf("stop message %q", stopMsg)
			}
		})
	}
}
