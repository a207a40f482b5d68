package fuseraw

import "unsafe"

// The kernel's FUSE ABI (include/uapi/linux/fuse.h), protocol 7.31: the
// structs below are laid out as the kernel's (host byte order, natural
// alignment; sizes checked by TestABISizes) and copied in and out whole.

// Major and Minor are the protocol version this package speaks; a newer
// kernel talks to it at this minor (it keeps every older one).
const (
	Major = 7
	Minor = 31
)

// Opcodes answered here (the rest get ENOSYS).
const (
	opLookup      = 1
	opForget      = 2
	opGetattr     = 3
	opOpen        = 14
	opRead        = 15
	opStatfs      = 17
	opRelease     = 18
	opFlush       = 25
	opInit        = 26
	opOpendir     = 27
	opReaddir     = 28
	opReleasedir  = 29
	opInterrupt   = 36
	opDestroy     = 38
	opBatchForget = 42
)

// INIT flags this package asks for when the kernel offers them.
const (
	initAsyncRead      = 1 << 0
	initParallelDirops = 1 << 18
)

// GetattrFh is set in a GETATTR's flags when Fh names an open file (fstat).
const GetattrFh = 1

// FopenDirectIO in OpenOut.OpenFlags: reads bypass the page cache.
const FopenDirectIO = 1

// notifyInvalEntry is FUSE_NOTIFY_INVAL_ENTRY, in a notification's error field.
const notifyInvalEntry = 3

// minReadBuffer is FUSE_MIN_READ_BUFFER: the kernel refuses reads of
// /dev/fuse into a smaller buffer.
const minReadBuffer = 8192

// unknownIno is FUSE_UNKNOWN_INO, a directory entry's inode when not known.
const unknownIno = 0xffffffff

// InHeader is fuse_in_header: every request starts with one.
type InHeader struct {
	Len         uint32
	Opcode      uint32
	Unique      uint64
	NodeID      uint64
	UID         uint32
	GID         uint32
	PID         uint32
	TotalExtlen uint16
	Padding     uint16
}

type outHeader struct {
	Len    uint32
	Error  int32
	Unique uint64
}

// Attr is fuse_attr.
type Attr struct {
	Ino       uint64
	Size      uint64
	Blocks    uint64
	Atime     uint64
	Mtime     uint64
	Ctime     uint64
	Atimensec uint32
	Mtimensec uint32
	Ctimensec uint32
	Mode      uint32
	Nlink     uint32
	UID       uint32
	GID       uint32
	Rdev      uint32
	Blksize   uint32
	Flags     uint32
}

// EntryOut is fuse_entry_out, a LOOKUP's answer.
type EntryOut struct {
	NodeID         uint64
	Generation     uint64
	EntryValid     uint64
	AttrValid      uint64
	EntryValidNsec uint32
	AttrValidNsec  uint32
	Attr           Attr
}

// AttrOut is fuse_attr_out, a GETATTR's answer.
type AttrOut struct {
	AttrValid     uint64
	AttrValidNsec uint32
	Dummy         uint32
	Attr          Attr
}

// OpenOut is fuse_open_out, an OPEN's or OPENDIR's answer.
type OpenOut struct {
	Fh        uint64
	OpenFlags uint32
	BackingID int32
}

type getattrIn struct {
	Flags uint32
	Dummy uint32
	Fh    uint64
}

type openIn struct {
	Flags     uint32
	OpenFlags uint32
}

type readIn struct {
	Fh        uint64
	Offset    uint64
	Size      uint32
	ReadFlags uint32
	LockOwner uint64
	Flags     uint32
	Padding   uint32
}

type releaseIn struct {
	Fh           uint64
	Flags        uint32
	ReleaseFlags uint32
	LockOwner    uint64
}

type initIn struct {
	Major        uint32
	Minor        uint32
	MaxReadahead uint32
	Flags        uint32
}

type initOut struct {
	Major               uint32
	Minor               uint32
	MaxReadahead        uint32
	Flags               uint32
	MaxBackground       uint16
	CongestionThreshold uint16
	MaxWrite            uint32
	TimeGran            uint32
	MaxPages            uint16
	MapAlignment        uint16
	Flags2              uint32
	Unused              [7]uint32
}

// compatInitOutSize is FUSE_COMPAT_22_INIT_OUT_SIZE: what a kernel of
// minor 22 or older reads of initOut.
const compatInitOutSize = 24

type statfsOut struct {
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Bsize   uint32
	NameLen uint32
	Frsize  uint32
	Padding uint32
	Spare   [6]uint32
}

type dirent struct {
	Ino     uint64
	Off     uint64
	NameLen uint32
	Type    uint32
}

type notifyInvalEntryOut struct {
	Parent  uint64
	NameLen uint32
	Flags   uint32
}

// bytesOf is the memory of *p, for copying a struct to or from the wire.
func bytesOf[T any](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}
