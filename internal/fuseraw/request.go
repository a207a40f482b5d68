package fuseraw

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"
)

// Request is one request from the kernel, decoded: its header and the
// fields of its body that this package's operations use.
type Request struct {
	InHeader
	// Name is the name a LOOKUP looks up.
	Name string
	// Fh is the file handle of a READ, RELEASE, RELEASEDIR, READDIR, and
	// of a GETATTR whose Flags have GetattrFh.
	Fh uint64
	// Flags are an OPEN's or OPENDIR's open(2) flags, a GETATTR's flags.
	Flags uint32
	// Offset and Size are where a READ or READDIR starts and the most it
	// takes.
	Offset uint64
	Size   uint32

	init initIn
}

// ErrShort is what Parse returns for a request shorter than its opcode's body.
var ErrShort = errors.New("fuse request shorter than its body")

var headerSize = int(unsafe.Sizeof(InHeader{}))

// Parse decodes b, exactly what one read of /dev/fuse returned, into r.
// It checks every length it uses (the header's against b's, the body's
// against its opcode's struct, a name's terminating NUL), and leaves
// the opcodes this package does not answer undecoded (their Header is
// enough to refuse them).
func Parse(b []byte, r *Request) error {
	*r = Request{}
	if len(b) < headerSize {
		return fmt.Errorf("fuse request of %d bytes: %w", len(b), ErrShort)
	}
	copy(bytesOf(&r.InHeader), b)
	if int(r.Len) != len(b) {
		return fmt.Errorf("fuse request (opcode %d) says %d bytes, read %d", r.Opcode, r.Len, len(b))
	}
	body := b[headerSize:]
	switch r.Opcode {
	case opLookup:
		i := bytes.IndexByte(body, 0)
		if i < 0 {
			return fmt.Errorf("fuse LOOKUP name without its NUL: %w", ErrShort)
		}
		r.Name = string(body[:i])
	case opGetattr:
		var in getattrIn
		if err := decode(body, &in, r.Opcode); err != nil {
			return err
		}
		r.Flags, r.Fh = in.Flags, in.Fh
	case opOpen, opOpendir:
		var in openIn
		if err := decode(body, &in, r.Opcode); err != nil {
			return err
		}
		r.Flags = in.Flags
	case opRead, opReaddir:
		var in readIn
		if err := decode(body, &in, r.Opcode); err != nil {
			return err
		}
		r.Fh, r.Offset, r.Size = in.Fh, in.Offset, in.Size
	case opRelease, opReleasedir:
		var in releaseIn
		if err := decode(body, &in, r.Opcode); err != nil {
			return err
		}
		r.Fh, r.Flags = in.Fh, in.Flags
	case opInit:
		if err := decode(body, &r.init, r.Opcode); err != nil {
			return err
		}
	}
	return nil
}

// decode copies the start of body into *p, which it must fill.
func decode[T any](body []byte, p *T, opcode uint32) error {
	dst := bytesOf(p)
	if len(body) < len(dst) {
		return fmt.Errorf("fuse request (opcode %d): body of %d bytes, want %d: %w", opcode, len(body), len(dst), ErrShort)
	}
	copy(dst, body)
	return nil
}
