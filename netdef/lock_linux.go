package netdef

import (
	"fmt"
	"os"
	"path/filepath"

	"vmlite/state"
)

// lockNetworks takes RUN/networks/.lock, waiting for it: start, destroy and
// address allocation of all networks are serialised, because they share the
// nftables table, ip_forward and the address records.
func lockNetworks(l state.Layout) (unlock func(), err error) {
	dir := netsRunDir(l)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := state.Lock(filepath.Join(dir, ".lock"))
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}
