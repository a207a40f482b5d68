package libvirtrpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

func TestReadFrame(t *testing.T) {
	good, _ := AppendFrame(nil, Header{Program: remoteProgram, Version: 1, Procedure: 23, Type: typeCall, Serial: 9}, []byte{1, 2, 3, 4})
	for _, c := range []struct {
		name string
		in   []byte
		ok   bool
		eof  bool
	}{
		{"packet", good, true, false},
		{"empty", nil, false, true},
		{"short length word", []byte{0, 0}, false, false},
		{"length below the header", binary.BigEndian.AppendUint32(nil, 27), false, false},
		{"length above the limit", binary.BigEndian.AppendUint32(nil, maxPacketLen+1), false, false},
		{"cut short", good[:len(good)-1], false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, body, _, err := ReadFrame(bytes.NewReader(c.in), nil)
			switch {
			case c.ok && err != nil:
				t.Fatalf("err %v", err)
			case c.ok && (h.Procedure != 23 || h.Serial != 9 || !bytes.Equal(body, []byte{1, 2, 3, 4})):
				t.Fatalf("got %+v %x", h, body)
			case c.eof && !errors.Is(err, io.EOF):
				t.Fatalf("err %v, want EOF", err)
			case !c.ok && !c.eof && !errors.Is(err, ErrFrame):
				t.Fatalf("err %v, want ErrFrame", err)
			}
		})
	}
	if _, err := AppendFrame(nil, Header{}, make([]byte, maxPacketLen)); !errors.Is(err, ErrFrame) {
		t.Errorf("oversized reply: %v", err)
	}
}

func TestDecodeConnectOpenLenient(t *testing.T) {
	name := []byte{0, 0, 0, 13}
	name = append(name, "lxc:///system"...)
	name = append(name, 0, 0, 0)
	for _, present := range []uint32{1, 0x01000000} { // virsh; go-libvirt's ConnectToURI
		body := binary.BigEndian.AppendUint32(nil, present)
		body = append(body, name...)
		body = binary.BigEndian.AppendUint32(body, 1)
		a, err := decodeConnectOpen(body)
		if err != nil || len(a.Name) != 1 || a.Name[0] != "lxc:///system" || a.Flags != libvirt.ConnectRo {
			t.Errorf("present=%#x: %+v, %v", present, a, err)
		}
	}
	if a, err := decodeConnectOpen(make([]byte, 8)); err != nil || len(a.Name) != 0 {
		t.Errorf("NULL name: %+v, %v", a, err)
	}
}

func FuzzReadFrame(f *testing.F) {
	good, _ := AppendFrame(nil, Header{Program: remoteProgram, Version: 1, Procedure: 1, Type: typeCall}, []byte{0, 0, 0, 0})
	f.Add(good)
	f.Add([]byte{0, 0, 0, 27})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		var buf []byte
		for {
			h, body, b, err := ReadFrame(r, buf)
			buf = b
			if err != nil {
				return
			}
			if len(body)+minPacketLen > maxPacketLen {
				t.Fatalf("body of %d bytes past the limit", len(body))
			}
			out, err := AppendFrame(nil, h, body)
			if err != nil || len(out) != len(body)+minPacketLen {
				t.Fatalf("re-encode: %v", err)
			}
		}
	})
}

// FuzzDecodeArgs feeds every registered procedure's argument decoder (and
// CONNECT_OPEN's hand-written one) arbitrary bytes: errors, never panics
// or huge allocations.
func FuzzDecodeArgs(f *testing.F) {
	f.Add(int32(23), []byte{0, 0, 0, 1, 'a', 0, 0, 0})
	f.Add(int32(1), []byte{1, 0, 0, 0, 0, 0, 0, 3, 'l', 'x', 'c', 0})
	f.Add(int32(273), []byte{0, 0, 0, 1, 0, 0, 0, 3})
	f.Fuzz(func(t *testing.T, proc int32, body []byte) {
		_, _ = decodeConnectOpen(body)
		var targets = []any{
			&libvirt.DomainLookupByNameArgs{}, &libvirt.DomainGetXMLDescArgs{}, &libvirt.ConnectListAllDomainsArgs{},
			&libvirt.DomainOpenConsoleArgs{}, &libvirt.ConnectDomainEventCallbackRegisterAnyArgs{},
			&libvirt.DomainDefineXMLFlagsArgs{}, &libvirt.DomainInterfaceAddressesArgs{}, &libvirt.NetworkGetXMLDescArgs{},
			&libvirt.NetworkCreateXMLArgs{}, &libvirt.NetworkCreateXMLFlagsArgs{},
		}
		_ = decode(body, targets[int(uint32(proc))%len(targets)])
	})
}
