package fuseraw

import (
	"syscall"
	"unsafe"
)

var outHeaderSize = int(unsafe.Sizeof(outHeader{}))

// appendReply appends the answer to request unique to buf: the header,
// then body (none when errno is not 0).
func appendReply(buf []byte, unique uint64, errno syscall.Errno, body []byte) []byte {
	if errno != 0 {
		body = nil
	}
	h := outHeader{Len: uint32(outHeaderSize + len(body)), Error: -int32(errno), Unique: unique}
	buf = append(buf, bytesOf(&h)...)
	return append(buf, body...)
}

// DirList is a READDIR's answer: the handler adds the entries from the
// request's Offset on, until one does not fit.
type DirList struct {
	buf []byte
	max int
}

var direntSize = int(unsafe.Sizeof(dirent{}))

// Add appends an entry of type mode (S_IFDIR, S_IFREG: its S_IFMT bits),
// inode ino (0: unknown) and offset off (what the kernel asks from for the
// entries after it). It returns false, adding nothing, when the entry
// does not fit: the kernel asks again from the last offset it got.
func (d *DirList) Add(name string, mode uint32, ino, off uint64) bool {
	size := (direntSize + len(name) + 7) &^ 7
	if len(d.buf)+size > d.max {
		return false
	}
	if ino == 0 {
		ino = unknownIno
	}
	e := dirent{Ino: ino, Off: off, NameLen: uint32(len(name)), Type: (mode & syscall.S_IFMT) >> 12}
	d.buf = append(d.buf, bytesOf(&e)...)
	d.buf = append(d.buf, name...)
	for len(d.buf)%8 != 0 {
		d.buf = append(d.buf, 0)
	}
	return true
}
