package console

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{'x'}, MaxPayload+10)
	tests := []struct {
		name  string
		build func() []byte
		want  []Frame
	}{
		{"data", func() []byte { return AppendFrame(nil, FrameData, []byte("hello")) },
			[]Frame{{FrameData, []byte("hello")}}},
		{"empty data", func() []byte { return AppendFrame(nil, FrameData, nil) },
			[]Frame{{FrameData, []byte{}}}},
		{"resize", func() []byte { return AppendFrame(nil, FrameResize, resizePayload(24, 80)) },
			[]Frame{{FrameResize, []byte{0, 24, 0, 80}}}},
		{"stopped", func() []byte { return AppendFrame(nil, FrameStopped, []byte("guest g stopped")) },
			[]Frame{{FrameStopped, []byte("guest g stopped")}}},
		{"data split at MaxPayload", func() []byte { return appendData(nil, big) },
			[]Frame{{FrameData, big[:MaxPayload]}, {FrameData, big[MaxPayload:]}}},
		{"chunks merged into one frame", func() []byte {
			b, last := appendDataTo(nil, -1, []byte("ab"))
			b, _ = appendDataTo(b, last, []byte("cd"))
			return b
		}, []Frame{{FrameData, []byte("abcd")}}},
		{"merge fills a frame to MaxPayload, then starts another", func() []byte {
			b, last := appendDataTo(nil, -1, big[:MaxPayload-3])
			b, _ = appendDataTo(b, last, big[:13])
			return b
		}, []Frame{{FrameData, big[:MaxPayload]}, {FrameData, big[:10]}}},
		{"no merge into a frame of another kind", func() []byte {
			b := AppendFrame(nil, FrameReplayed, nil)
			b, _ = appendDataTo(b, 0, []byte("x"))
			return b
		}, []Frame{{FrameReplayed, []byte{}}, {FrameData, []byte("x")}}},
		{"replayed", func() []byte { return AppendFrame(nil, FrameReplayed, nil) },
			[]Frame{{FrameReplayed, []byte{}}}},
		{"sequence", func() []byte {
			b := AppendFrame(nil, FrameResize, resizePayload(1, 2))
			return AppendFrame(b, FrameData, []byte{0x1d, 0})
		}, []Frame{{FrameResize, []byte{0, 1, 0, 2}}, {FrameData, []byte{0x1d, 0}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(bytes.NewReader(tc.build()))
			for i, want := range tc.want {
				f, err := d.ReadFrame()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if f.Kind != want.Kind || !bytes.Equal(f.Payload, want.Payload) {
					t.Fatalf("frame %d = %v %q, want %v %q", i, f.Kind, trunc(f.Payload), want.Kind, trunc(want.Payload))
				}
			}
			if _, err := d.ReadFrame(); !errors.Is(err, io.EOF) {
				t.Fatalf("after last frame: %v, want io.EOF", err)
			}
		})
	}
}

func TestFrameSize(t *testing.T) {
	f := Frame{Kind: FrameResize, Payload: resizePayload(300, 1000)}
	if r, c := f.Size(); r != 300 || c != 1000 {
		t.Fatalf("Size() = %d, %d; want 300, 1000", r, c)
	}
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"unknown kind", []byte{9, 0, 0}, ErrBadFrame},
		{"zero kind", []byte{0, 0, 0}, ErrBadFrame},
		{"short resize", []byte{byte(FrameResize), 0, 3, 1, 2, 3}, ErrBadFrame},
		{"long resize", []byte{byte(FrameResize), 0, 5, 1, 2, 3, 4, 5}, ErrBadFrame},
		{"replayed with payload", []byte{byte(FrameReplayed), 0, 1, 'x'}, ErrBadFrame},
		{"truncated header", []byte{byte(FrameData), 0}, io.ErrUnexpectedEOF},
		{"truncated payload", []byte{byte(FrameData), 0, 5, 'a'}, io.ErrUnexpectedEOF},
		{"missing payload", []byte{byte(FrameData), 0, 5}, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewDecoder(bytes.NewReader(tc.in)).ReadFrame()
			if !errors.Is(err, tc.want) {
				t.Fatalf("ReadFrame(%x) = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{FrameData: "data", FrameResize: "resize", FrameStopped: "stopped", FrameReplayed: "replayed", 42: "kind(42)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), got, want)
		}
	}
}

func trunc(p []byte) []byte {
	if len(p) > 20 {
		return p[:20]
	}
	return p
}

// FuzzDecoder checks that the decoder never panics or over-allocates, and
// that every frame it accepts re-encodes to the bytes it came from.
func FuzzDecoder(f *testing.F) {
	f.Add(AppendFrame(nil, FrameData, []byte("hello")))
	f.Add(AppendFrame(AppendFrame(nil, FrameResize, resizePayload(24, 80)), FrameStopped, []byte("bye")))
	f.Add([]byte{byte(FrameResize), 0, 3, 1, 2, 3})
	f.Add([]byte{byte(FrameData), 0xff, 0xff, 1})
	f.Add([]byte{7, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		d := NewDecoder(bytes.NewReader(in))
		consumed := 0
		for {
			fr, err := d.ReadFrame()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrBadFrame) {
					t.Fatalf("unexpected error class: %v", err)
				}
				if errors.Is(err, io.EOF) && consumed != len(in) {
					t.Fatalf("clean EOF after %d of %d bytes", consumed, len(in))
				}
				return
			}
			if cap(d.buf) > MaxPayload {
				t.Fatalf("decoder buffer grew to %d", cap(d.buf))
			}
			if fr.Kind == FrameResize && len(fr.Payload) != resizeLen {
				t.Fatalf("resize frame with %d bytes", len(fr.Payload))
			}
			enc := AppendFrame(nil, fr.Kind, fr.Payload)
			if !bytes.Equal(enc, in[consumed:consumed+len(enc)]) {
				t.Fatalf("re-encoding %v differs from input", fr.Kind)
			}
			consumed += len(enc)
		}
	})
}
