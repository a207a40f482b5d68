package netdef

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"vmlite/state"
)

// Leases returns the DHCP leases of network name's server, none when it
// has not handed any out (or does not run).
func Leases(l state.Layout, name string) ([]Lease, error) {
	b, err := os.ReadFile(dnsmasqLeaseFile(l, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("network %s: read DHCP leases: %w", name, err)
	}
	return parseLeaseFile(b), nil
}
