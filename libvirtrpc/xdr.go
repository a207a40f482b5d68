package libvirtrpc

import (
	"bytes"
	"encoding/binary"
	"fmt"

	xdr "github.com/davecgh/go-xdr/xdr2"
	libvirt "github.com/digitalocean/go-libvirt"
)

// encode marshals a ret or message struct.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	if _, err := xdr.Marshal(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decode unmarshals call arguments into v. Array and string lengths are
// bounded by the body itself (UnmarshalLimited), so a forged count cannot
// make it allocate more than the packet holds; a decoder panic on hostile
// input is turned into an error, never taken down with the daemon.
func decode(body []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed arguments: %v", r)
		}
	}()
	if _, err := xdr.UnmarshalLimited(bytes.NewReader(body), v, uint(len(body))); err != nil {
		return fmt.Errorf("malformed arguments: %w", err)
	}
	return nil
}

// decodeConnectOpen decodes CONNECT_OPEN's {remote_string name; u32 flags}
// by hand: go-libvirt's ConnectToURI sends the "name present" word as
// 0x01000000, which C's xdr_bool (libvirtd) takes as true and a strict
// array decoder takes as a 16M-element count.
func decodeConnectOpen(body []byte) (libvirt.ConnectOpenArgs, error) {
	var a libvirt.ConnectOpenArgs
	if len(body) < 4 {
		return a, fmt.Errorf("malformed arguments: %d bytes", len(body))
	}
	present := binary.BigEndian.Uint32(body) != 0
	rest := body[4:]
	if present {
		var s struct{ S string }
		if len(rest) < 4 {
			return a, fmt.Errorf("malformed arguments: name cut short")
		}
		n := binary.BigEndian.Uint32(rest)
		padded := (uint64(n) + 3) &^ 3
		if n > maxStringLen || uint64(len(rest)) < 4+padded {
			return a, fmt.Errorf("malformed arguments: name of %d bytes", n)
		}
		if err := decode(rest[:4+padded], &s); err != nil {
			return a, err
		}
		a.Name = libvirt.OptString{s.S}
		rest = rest[4+padded:]
	}
	if len(rest) >= 4 {
		a.Flags = libvirt.ConnectFlags(binary.BigEndian.Uint32(rest))
	}
	return a, nil
}
