package fuseraw

import (
	"errors"
	"testing"
)

// req builds a request as the kernel writes it: header, then body.
func req(opcode uint32, unique, node uint64, body []byte) []byte {
	h := InHeader{Len: uint32(headerSize + len(body)), Opcode: opcode, Unique: unique, NodeID: node, UID: 1, GID: 2, PID: 42}
	return append(append([]byte(nil), bytesOf(&h)...), body...)
}

func TestParse(t *testing.T) {
	read := readIn{Fh: 7, Offset: 4096, Size: 8192}
	getattr := getattrIn{Flags: GetattrFh, Fh: 9}
	open := openIn{Flags: 0o100000}
	rel := releaseIn{Fh: 11}
	init := initIn{Major: 7, Minor: 44, MaxReadahead: 131072, Flags: initAsyncRead}
	for _, c := range []struct {
		name string
		b    []byte
		want Request
		err  bool
	}{
		{"lookup", req(opLookup, 1, 1, []byte("meminfo\x00")), Request{Name: "meminfo"}, false},
		{"lookup without NUL", req(opLookup, 1, 1, []byte("meminfo")), Request{}, true},
		{"getattr", req(opGetattr, 2, 3, bytesOf(&getattr)), Request{Flags: GetattrFh, Fh: 9}, false},
		{"getattr short", req(opGetattr, 2, 3, bytesOf(&getattr)[:8]), Request{}, true},
		{"open", req(opOpen, 3, 3, bytesOf(&open)), Request{Flags: 0o100000}, false},
		{"opendir", req(opOpendir, 3, 1, bytesOf(&open)), Request{Flags: 0o100000}, false},
		{"read", req(opRead, 4, 3, bytesOf(&read)), Request{Fh: 7, Offset: 4096, Size: 8192}, false},
		{"readdir", req(opReaddir, 4, 1, bytesOf(&read)), Request{Fh: 7, Offset: 4096, Size: 8192}, false},
		{"read short", req(opRead, 4, 3, bytesOf(&read)[:39]), Request{}, true},
		{"release", req(opRelease, 5, 3, bytesOf(&rel)), Request{Fh: 11}, false},
		{"init", req(opInit, 6, 0, bytesOf(&init)), Request{init: init}, false},
		{"unknown opcode: header only", req(999, 7, 1, nil), Request{}, false},
		{"forget: not decoded", req(opForget, 8, 3, []byte{1}), Request{}, false},
		{"short header", req(opLookup, 1, 1, nil)[:39], Request{}, true},
		{"length mismatch", append(req(opStatfs, 1, 1, nil), 0), Request{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r Request
			err := Parse(c.b, &r)
			if (err != nil) != c.err {
				t.Fatalf("err %v, want error %v", err, c.err)
			}
			if err != nil {
				if len(c.b) >= headerSize && errors.Is(err, ErrShort) != (r.Len == uint32(len(c.b))) {
					t.Errorf("%v: ErrShort only for a body shorter than its struct", err)
				}
				return
			}
			c.want.InHeader = r.InHeader
			if r != c.want {
				t.Errorf("got %+v, want %+v", r, c.want)
			}
			if r.PID != 42 || r.UID != 1 || r.GID != 2 || r.Len != uint32(len(c.b)) {
				t.Errorf("header %+v", r.InHeader)
			}
		})
	}
}

func TestDirList(t *testing.T) {
	d := DirList{max: 64}
	if !d.Add("proc", 0o40000, 5, 1) {
		t.Fatal("first entry does not fit in 64 bytes")
	}
	if len(d.buf) != 32 { // 24 + 4, padded to 8
		t.Errorf("entry of %d bytes, want 32", len(d.buf))
	}
	if !d.Add("sys", 0o40000, 0, 2) {
		t.Fatal("second entry does not fit")
	}
	if d.Add("guests", 0o40000, 0, 3) {
		t.Error("third entry added past max")
	}
	if len(d.buf) != 64 {
		t.Errorf("%d bytes, want 64", len(d.buf))
	}
	var e dirent
	copy(bytesOf(&e), d.buf[32:])
	if e.Ino != unknownIno || e.Off != 2 || e.NameLen != 3 || e.Type != 4 || string(d.buf[56:59]) != "sys" {
		t.Errorf("second entry %+v %q", e, d.buf[56:64])
	}
}

func TestAppendReply(t *testing.T) {
	body := []byte("abc")
	b := appendReply(nil, 77, 0, body)
	var h outHeader
	copy(bytesOf(&h), b)
	if h.Len != 19 || h.Error != 0 || h.Unique != 77 || string(b[16:]) != "abc" {
		t.Errorf("reply %+v %q", h, b[16:])
	}
	b = appendReply(b[:0], 78, 2, body) // ENOENT: no body
	copy(bytesOf(&h), b)
	if h.Len != 16 || h.Error != -2 || len(b) != 16 {
		t.Errorf("error reply %+v, %d bytes", h, len(b))
	}
}
