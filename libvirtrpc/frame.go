package libvirtrpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits of virnetprotocol.x: a whole packet (length word included) is at
// most 16 MiB + 4; the header is 24 bytes.
const (
	headerLen    = 24
	lenWordLen   = 4
	maxPacketLen = 16<<20 + lenWordLen
	minPacketLen = lenWordLen + headerLen
	// maxStringLen is REMOTE_STRING_MAX: no string argument may be longer.
	maxStringLen = 4 << 20
)

// Packet types and statuses (virnetprotocol.x virNetMessageType/Status).
const (
	typeCall         uint32 = 0
	typeReply        uint32 = 1
	typeMessage      uint32 = 2
	typeStream       uint32 = 3
	typeCallWithFDs  uint32 = 4
	typeReplyWithFDs uint32 = 5

	statusOK       uint32 = 0
	statusError    uint32 = 1
	statusContinue uint32 = 2
)

// Header is a packet's header.
type Header struct {
	Program   uint32
	Version   uint32
	Procedure int32
	Type      uint32
	Serial    uint32
	Status    uint32
}

// ErrFrame is wrapped by every framing error: the stream cannot be trusted
// past it and the connection is closed.
var ErrFrame = errors.New("bad frame")

// ReadFrame reads one packet. buf is reused when it is large enough; the
// returned body aliases it. io.EOF means a clean end between packets.
func ReadFrame(r io.Reader, buf []byte) (Header, []byte, []byte, error) {
	var lw [lenWordLen]byte
	if _, err := io.ReadFull(r, lw[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Header{}, nil, buf, fmt.Errorf("%w: truncated length word", ErrFrame)
		}
		return Header{}, nil, buf, err
	}
	n := binary.BigEndian.Uint32(lw[:])
	if n < minPacketLen || n > maxPacketLen {
		return Header{}, nil, buf, fmt.Errorf("%w: packet length %d outside %d..%d", ErrFrame, n, minPacketLen, maxPacketLen)
	}
	rest := int(n) - lenWordLen
	if cap(buf) < rest {
		buf = make([]byte, rest)
	}
	buf = buf[:rest]
	if _, err := io.ReadFull(r, buf); err != nil {
		return Header{}, nil, buf, fmt.Errorf("%w: packet of %d bytes cut short: %w", ErrFrame, n, err)
	}
	h := Header{
		Program:   binary.BigEndian.Uint32(buf[0:]),
		Version:   binary.BigEndian.Uint32(buf[4:]),
		Procedure: int32(binary.BigEndian.Uint32(buf[8:])),
		Type:      binary.BigEndian.Uint32(buf[12:]),
		Serial:    binary.BigEndian.Uint32(buf[16:]),
		Status:    binary.BigEndian.Uint32(buf[20:]),
	}
	return h, buf[headerLen:], buf, nil
}

// AppendFrame appends the encoding of a packet to dst. A body that would
// exceed the packet limit is an error, never a truncated packet.
func AppendFrame(dst []byte, h Header, body []byte) ([]byte, error) {
	n := minPacketLen + len(body)
	if n > maxPacketLen {
		return dst, fmt.Errorf("%w: reply of %d bytes exceeds libvirt's %d", ErrFrame, n, maxPacketLen)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = binary.BigEndian.AppendUint32(dst, h.Program)
	dst = binary.BigEndian.AppendUint32(dst, h.Version)
	dst = binary.BigEndian.AppendUint32(dst, uint32(h.Procedure))
	dst = binary.BigEndian.AppendUint32(dst, h.Type)
	dst = binary.BigEndian.AppendUint32(dst, h.Serial)
	dst = binary.BigEndian.AppendUint32(dst, h.Status)
	return append(dst, body...), nil
}
