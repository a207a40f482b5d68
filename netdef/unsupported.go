//go:build !linux

package netdef

import (
	"errors"
	"net"

	"vmlite/state"
)

// errUnsupported is what the host-side operations return off Linux:
// vmlite's guests need Linux namespaces.
var errUnsupported = errors.New("networking needs Linux")

// Start is Linux-only.
func Start(l state.Layout, name string) error { return errUnsupported }

// Create is Linux-only.
func Create(l state.Layout, file string, data []byte) (*Network, error) { return nil, errUnsupported }

// Destroy is Linux-only.
func Destroy(l state.Layout, name string) error { return errUnsupported }

// AllocateAddress is Linux-only.
func (n *Network) AllocateAddress(guestUUID string, mac string) (net.IP, error) {
	return nil, errUnsupported
}

// ReleaseAddress is Linux-only.
func (n *Network) ReleaseAddress(guestUUID string) error { return errUnsupported }

// NFTableExists is Linux-only.
func NFTableExists() (bool, error) { return false, errUnsupported }

// Leases is Linux-only.
func Leases(l state.Layout, name string) ([]Lease, error) { return nil, errUnsupported }
