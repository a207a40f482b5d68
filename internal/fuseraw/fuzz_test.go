package fuseraw

import "testing"

// FuzzParse: any bytes the kernel could hand over decode or are refused,
// never read past what was read: no panic, and a decoded request's
// header length is the input's.
func FuzzParse(f *testing.F) {
	read := readIn{Fh: 1, Size: 4096}
	f.Add(req(opLookup, 1, 1, []byte("proc\x00")))
	f.Add(req(opRead, 2, 3, bytesOf(&read)))
	f.Add(req(opInit, 3, 0, make([]byte, 64)))
	f.Add(req(opGetattr, 4, 3, make([]byte, 16)))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		if err := Parse(b, &r); err != nil {
			return
		}
		if int(r.Len) != len(b) {
			t.Fatalf("decoded a request of %d bytes that says %d", len(b), r.Len)
		}
		if r.Opcode == opLookup && len(r.Name) >= len(b)-headerSize {
			t.Fatalf("name %q longer than the body", r.Name)
		}
	})
}
