package console

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The console socket speaks a tiny framed protocol, the same in both
// directions. Every message is one frame:
//
//	 0        1        2        3 ...
//	+--------+--------+--------+------------------------+
//	|  kind  | length (uint16, |  payload               |
//	| uint8  |   big-endian)   |  (length bytes)        |
//	+--------+--------+--------+------------------------+
//
// A conversation:
//
//	client (vmlite console)              multiplexer (supervisor)
//	  connect ---------------------------> SO_PEERCRED check (uid 0 or own uid)
//	  [FrameLossless] -------------------> this client: wait, never drop (--lossless)
//	  FrameResize{rows,cols} ------------> pty TIOCSWINSZ (last resize wins)
//	                    <----------------- FrameData: ring replay (the boot log),
//	                                       with the pty master (SCM_RIGHTS)
//	                    <----------------- FrameReplayed: live output from here
//	                    <----------------- FrameData: live output ...
//	  typed input goes straight to the master (direct_linux.go), or:
//	  FrameData "ls\r" ------------------> master (one writer for all clients)
//	  SIGWINCH: FrameResize -------------> pty TIOCSWINSZ
//	  Ctrl-]: close ---------------------> client removed, guest untouched
//	or, when the guest stops:
//	                    <----------------- FrameStopped "guest NAME stopped"; close
//
// Terminal bytes travel only inside FrameData, so a resize can never be
// confused with typed input (no in-band escape sequences). A peer that sends
// an unknown kind or a malformed payload is disconnected: both ends ship in
// the same binary, so a mismatch is a bug or a stranger, never a version skew
// worth negotiating.

// Kind is a frame's type.
type Kind uint8

// Frame kinds. Zero is invalid so that a zeroed header is never a frame.
const (
	// FrameData carries terminal bytes: guest output to clients, typed input
	// to the guest.
	FrameData Kind = 1
	// FrameResize (client to multiplexer) sets the window size: payload is
	// rows, cols as two big-endian uint16.
	FrameResize Kind = 2
	// FrameStopped (multiplexer to client) says the guest stopped; the payload
	// is a human-readable message. The multiplexer closes the connection after it.
	FrameStopped Kind = 3
	// FrameReplayed (multiplexer to client, empty) ends the replay of the
	// ring. A client detaching right away (escape byte or end of piped input
	// already in its input) waits for it, so that even
	// `printf '\x1d' | vmlite console NAME` reliably prints the scrollback.
	FrameReplayed Kind = 4
	// FrameLossless (client to multiplexer, empty), sent first, makes the
	// client lossless: output that does not fit its queue waits for it
	// instead of being dropped, holding back the guest's console (see Mux).
	FrameLossless Kind = 5
)

// String names k for messages and tests.
func (k Kind) String() string {
	switch k {
	case FrameData:
		return "data"
	case FrameResize:
		return "resize"
	case FrameStopped:
		return "stopped"
	case FrameReplayed:
		return "replayed"
	case FrameLossless:
		return "lossless"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

const (
	headerLen = 3
	// MaxPayload is the largest payload a frame carries (the length field is 16 bits).
	MaxPayload = 1<<16 - 1
	resizeLen  = 4
)

// ErrBadFrame is returned for a frame that does not follow the protocol.
var ErrBadFrame = errors.New("bad console frame")

// Frame is one decoded message. Payload aliases the decoder's buffer and is
// valid until the next ReadFrame.
type Frame struct {
	Kind    Kind
	Payload []byte
}

// Size returns a resize frame's rows and cols.
func (f Frame) Size() (rows, cols uint16) {
	return binary.BigEndian.Uint16(f.Payload[0:2]), binary.BigEndian.Uint16(f.Payload[2:4])
}

// AppendFrame appends the encoding of one frame to dst. It panics if payload
// exceeds MaxPayload: callers split data (see appendData).
func AppendFrame(dst []byte, k Kind, payload []byte) []byte {
	if len(payload) > MaxPayload {
		panic("console: frame payload too large")
	}
	dst = append(dst, byte(k), byte(len(payload)>>8), byte(len(payload)))
	return append(dst, payload...)
}

// appendData appends p as as many data frames as its length needs.
func appendData(dst, p []byte) []byte {
	for len(p) > 0 {
		n := min(len(p), MaxPayload)
		dst = AppendFrame(dst, FrameData, p[:n])
		p = p[n:]
	}
	return dst
}

// appendDataTo appends p as data to dst, whose last frame starts at last (-1:
// none): a data frame there with room is extended first, so that
// consecutive chunks of output travel as few frames as their length needs
// and the client writes them out in one go. It returns dst and the start of
// its last frame.
func appendDataTo(dst []byte, last int, p []byte) ([]byte, int) {
	if last >= 0 && Kind(dst[last]) == FrameData {
		n := int(binary.BigEndian.Uint16(dst[last+1 : last+headerLen]))
		if k := min(MaxPayload-n, len(p)); k > 0 {
			dst = append(dst, p[:k]...)
			binary.BigEndian.PutUint16(dst[last+1:last+headerLen], uint16(n+k))
			p = p[k:]
		}
	}
	for len(p) > 0 {
		last = len(dst)
		n := min(len(p), MaxPayload)
		dst = AppendFrame(dst, FrameData, p[:n])
		p = p[n:]
	}
	return dst, last
}

// resizePayload encodes a window size.
func resizePayload(rows, cols uint16) []byte {
	var b [resizeLen]byte
	binary.BigEndian.PutUint16(b[0:2], rows)
	binary.BigEndian.PutUint16(b[2:4], cols)
	return b[:]
}

// Decoder reads frames from a stream, reusing one buffer.
type Decoder struct {
	r   io.Reader
	hdr [headerLen]byte
	buf []byte
}

// NewDecoder returns a decoder reading from r. Wrap r in a bufio.Reader when
// it is not already buffered: a frame costs two reads.
func NewDecoder(r io.Reader) *Decoder { return &Decoder{r: r} }

// ReadFrame reads the next frame. It returns io.EOF at a clean end between
// frames, io.ErrUnexpectedEOF for a truncated frame and an ErrBadFrame
// for a frame breaking the protocol.
func (d *Decoder) ReadFrame() (Frame, error) {
	if _, err := io.ReadFull(d.r, d.hdr[:]); err != nil {
		return Frame{}, err
	}
	k := Kind(d.hdr[0])
	n := int(binary.BigEndian.Uint16(d.hdr[1:3]))
	switch k {
	case FrameData, FrameStopped:
	case FrameResize:
		if n != resizeLen {
			return Frame{}, fmt.Errorf("%w: resize payload of %d bytes, want %d", ErrBadFrame, n, resizeLen)
		}
	case FrameReplayed, FrameLossless:
		if n != 0 {
			return Frame{}, fmt.Errorf("%w: %s frame with a payload of %d bytes", ErrBadFrame, k, n)
		}
	default:
		return Frame{}, fmt.Errorf("%w: unknown kind %d", ErrBadFrame, uint8(k))
	}
	if cap(d.buf) < n {
		// Grow in steps so that a stream of growing frames does not
		// reallocate for every one; never beyond MaxPayload.
		d.buf = make([]byte, n, min(max(n, 2*cap(d.buf), 512), MaxPayload))
	}
	p := d.buf[:n]
	if _, err := io.ReadFull(d.r, p); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	return Frame{Kind: k, Payload: p}, nil
}
