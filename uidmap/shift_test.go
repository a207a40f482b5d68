package uidmap

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"vmlite/plan"
)

func TestTranslator(t *testing.T) {
	m1 := both(one(0, 100000, 65536))
	m2 := both([]plan.IDRange{{Start: 0, Target: 200000, Count: 1000}, {Start: 1000, Target: 300000, Count: 64536}})
	small := both(one(0, 500000, 10))
	for _, tc := range []struct {
		name     string
		from, to plan.IDMap
		in, out  uint32
		ok       bool
	}{
		{"identity to map", plan.IDMap{}, m1, 0, 100000, true},
		{"identity to map, 1000", plan.IDMap{}, m1, 1000, 101000, true},
		{"identity to map, beyond", plan.IDMap{}, m1, 70000, 100000 + OverflowID, false},
		{"map to identity", m1, plan.IDMap{}, 100005, 5, true},
		{"map to identity, foreign id", m1, plan.IDMap{}, 0, OverflowID, false},
		{"map to map", m1, m2, 100999, 200999, true},
		{"map to map, second range", m1, m2, 101000, 300000, true},
		{"to a map without the overflow id", plan.IDMap{}, small, 20, OverflowID, false},
		{"identity to identity", plan.IDMap{}, plan.IDMap{}, 42, 42, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NewTranslator(tc.from, tc.to, UID).Map(tc.in)
			if got != tc.out || ok != tc.ok {
				t.Errorf("Map(%d) = %d, %v; want %d, %v", tc.in, got, ok, tc.out, tc.ok)
			}
		})
	}
	// A shift and its inverse give back every id both maps carry.
	fwd, back := NewTranslator(m1, m2, GID), NewTranslator(m2, m1, GID)
	for _, h := range []uint32{100000, 100999, 101000, 165535} {
		n, _ := fwd.Map(h)
		if r, _ := back.Map(n); r != h {
			t.Errorf("round trip of %d: %d -> %d", h, n, r)
		}
	}
}

func acl(entries ...[3]uint32) []byte {
	b := make([]byte, 4, 4+8*len(entries))
	binary.LittleEndian.PutUint32(b, aclVersion)
	for _, e := range entries {
		var x [8]byte
		binary.LittleEndian.PutUint16(x[0:], uint16(e[0]))
		binary.LittleEndian.PutUint16(x[2:], uint16(e[1]))
		binary.LittleEndian.PutUint32(x[4:], e[2])
		b = append(b, x[:]...)
	}
	return b
}

func TestShiftACL(t *testing.T) {
	m := both(one(0, 100000, 65536))
	u, g := NewTranslator(plan.IDMap{}, m, UID), NewTranslator(plan.IDMap{}, m, GID)
	const undefined = 0xffffffff
	in := acl([3]uint32{0x01, 7, undefined}, [3]uint32{aclUser, 6, 1000}, [3]uint32{0x04, 5, undefined}, [3]uint32{aclGroup, 4, 50}, [3]uint32{0x10, 7, undefined}, [3]uint32{0x20, 5, undefined})
	want := acl([3]uint32{0x01, 7, undefined}, [3]uint32{aclUser, 6, 101000}, [3]uint32{0x04, 5, undefined}, [3]uint32{aclGroup, 4, 100050}, [3]uint32{0x10, 7, undefined}, [3]uint32{0x20, 5, undefined})
	got, err := ShiftACL(in, u, g)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ShiftACL = %x, %v; want %x", got, err, want)
	}
	for _, bad := range [][]byte{nil, {2, 0, 0}, acl()[:3], append(acl([3]uint32{aclUser, 1, 1}), 0), {1, 0, 0, 0}} {
		if out, err := ShiftACL(bad, u, g); err == nil || !bytes.Equal(out, bad) {
			t.Errorf("ShiftACL(%x) = %x, %v; want it unchanged with an error", bad, out, err)
		}
	}
}

func TestShiftCap(t *testing.T) {
	u := NewTranslator(plan.IDMap{}, both(one(0, 100000, 65536)), UID)
	v2 := make([]byte, 20)
	binary.LittleEndian.PutUint32(v2, 0x02000001)
	if got, err := ShiftCap(v2, u); err != nil || !bytes.Equal(got, v2) {
		t.Errorf("v2 changed: %x, %v", got, err)
	}
	v3 := make([]byte, 24)
	binary.LittleEndian.PutUint32(v3, 0x03000000)
	binary.LittleEndian.PutUint32(v3[20:], 0)
	got, err := ShiftCap(v3, u)
	if err != nil || binary.LittleEndian.Uint32(got[20:]) != 100000 {
		t.Errorf("v3 root uid: %x, %v; want 100000", got, err)
	}
	if _, err := ShiftCap(v3[:22], u); err == nil {
		t.Error("short v3 value accepted")
	}
}

func TestParseJournal(t *testing.T) {
	var b bytes.Buffer
	h := JournalHeader{Path: "/srv/t", Dev: 1, Ino: 2, To: both(one(0, 100000, 65536))}
	if err := WriteJournalHeader(&b, h); err != nil {
		t.Fatal(err)
	}
	for _, e := range []Entry{{Ino: 2, UID: 0, GID: 0, Mode: 0o40755}, {Ino: 3, UID: 1000, GID: 100, ACL: []byte{2, 0, 0, 0}}, {Ino: 2, UID: 100000}} {
		if err := WriteJournalEntry(&b, e); err != nil {
			t.Fatal(err)
		}
	}
	full := b.String()
	for _, tc := range []struct {
		name    string
		text    string
		n       int
		wantErr string
	}{
		{"complete", full, 2, ""},
		{"torn last line", full + `{"i":9,"u":`, 2, ""},
		{"bad middle line", strings.Replace(full, `{"i":3`, `{"i":x3`, 1), 0, "line 3"},
		{"empty", "", 0, "empty"},
		{"no tree", "{}\n", 0, "names no tree"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gh, es, err := ParseJournal(strings.NewReader(tc.text))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if gh.Path != h.Path || !Equal(gh.To, h.To) || len(es) != tc.n {
				t.Fatalf("got %+v, %d entries", gh, len(es))
			}
			if es[2].UID != 0 {
				t.Errorf("inode 2: the first entry (the original ids) must win, got uid %d", es[2].UID)
			}
			if !bytes.Equal(es[3].ACL, []byte{2, 0, 0, 0}) {
				t.Errorf("inode 3 acl %x", es[3].ACL)
			}
		})
	}
}

func FuzzParseJournal(f *testing.F) {
	f.Add([]byte("{\"path\":\"/t\"}\n{\"i\":1,\"u\":2,\"g\":3}\n"))
	f.Add([]byte("{\"path\":\"/t\",\"to\":{\"uids\":[{\"start\":0,\"target\":1,\"count\":2}]}}\n{\"i\":1,\"a\":\"AgAAAA==\"}\n{\"i\""))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, es, err := ParseJournal(bytes.NewReader(b))
		if err != nil {
			return
		}
		if h.Path == "" {
			t.Fatal("accepted a journal without a tree")
		}
		// Whatever was accepted writes back and reads the same.
		var out bytes.Buffer
		if err := WriteJournalHeader(&out, h); err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if err := WriteJournalEntry(&out, e); err != nil {
				t.Fatal(err)
			}
		}
		_, es2, err := ParseJournal(&out)
		if err != nil || len(es2) != len(es) {
			t.Fatalf("re-parse: %v, %d vs %d entries", err, len(es2), len(es))
		}
	})
}

func TestShiftAllowed(t *testing.T) {
	for _, p := range []string{"/", "/usr", "/usr/local", "/etc/ssl", "/var", "/home", "/lib64/x"} {
		if ShiftAllowed(p) == nil {
			t.Errorf("ShiftAllowed(%q) = nil", p)
		}
	}
	for _, p := range []string{"/var/lib/vmlite/guests/web", "/srv/data", "/home/alice/guest", "/tmp/x/rootfs", "/data"} {
		if err := ShiftAllowed(p); err != nil {
			t.Errorf("ShiftAllowed(%q): %v", p, err)
		}
	}
}
