//go:build !linux

package guestnet

import (
	"errors"

	"vmlite/plan"
)

// errUnsupported is what the host-side operations return off Linux:
// vmlite's guests need Linux namespaces.
var errUnsupported = errors.New("networking needs Linux")

// Setup is Linux-only.
func Setup(ifaces []plan.Interface, pid int) (func() error, error) { return nil, errUnsupported }

// GuestAddresses is Linux-only.
func GuestAddresses(pid int, names []string) ([]IfaceAddr, error) { return nil, errUnsupported }
