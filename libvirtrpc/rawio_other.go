//go:build !linux

package libvirtrpc

import "net"

// rawIO is Linux-only; elsewhere connections use net.Conn's own calls.
type rawIO struct{}

func newRawIO(net.Conn) *rawIO { return nil }

func (r *rawIO) Read([]byte) (int, error) { panic("unreachable") }

func (r *rawIO) write([]byte) error { panic("unreachable") }
