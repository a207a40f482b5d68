//go:build !linux

package netdef

import (
	"errors"
	"net"

	"vmlite/plan"
	"vmlite/state"
)

// errUnsupported is what the host-side operations return off Linux:
// vmlite's guests need Linux namespaces.
var errUnsupported = errors.New("networking needs Linux")

// Setup is Linux-only.
func Setup(ifaces []plan.Interface, pid int) (func() error, error) { return nil, errUnsupported }

// Start is Linux-only.
func Start(l state.Layout, name string) error { return errUnsupported }

// Destroy is Linux-only.
func Destroy(l state.Layout, name string) error { return errUnsupported }

// IfaceAddr is one address of a guest interface.
type IfaceAddr struct{ Name, MAC, Family, CIDR string }

// GuestAddresses is Linux-only.
func GuestAddresses(pid int, names []string) ([]IfaceAddr, error) { return nil, errUnsupported }

// AllocateAddress is Linux-only.
func (n *Network) AllocateAddress(guestUUID string, mac string) (net.IP, error) {
	return nil, errUnsupported
}

// ReleaseAddress is Linux-only.
func (n *Network) ReleaseAddress(guestUUID string) error { return errUnsupported }

// NFTableExists is Linux-only.
func NFTableExists() (bool, error) { return false, errUnsupported }
