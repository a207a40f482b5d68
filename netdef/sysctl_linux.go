package netdef

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"vmlite/state"
)

// ipForward is the one sysctl vmlite changes for forwarding networks.
//
// Why the global switch and not only the bridge's own
// net.ipv4.conf.BRIDGE.forwarding: IPv4 checks the forwarding flag of the
// device a packet arrives on (ip_route_input_slow, IN_DEV_FORWARD), so the
// replies coming back from the uplink, whichever it is, need forwarding on
// that uplink too; setting ip_forward is what turns it on for all of them,
// and it is what libvirt does. Isolated networks change nothing.
//
// The value found before the first forwarding network started is kept in
// RUN/networks/.ip_forward and written back when the last one stops.
// /proc/sys/net is per network namespace: the calling thread's is changed.
const ipForward = "/proc/sys/net/ipv4/ip_forward"

func forwardSaveFile(l state.Layout) string { return filepath.Join(netsRunDir(l), ".ip_forward") }

// enableForwarding turns ip_forward on, remembering the old value unless an
// earlier network already did.
func enableForwarding(l state.Layout) error {
	cur, err := os.ReadFile(ipForward)
	if err != nil {
		return fmt.Errorf("read %s: %w", ipForward, err)
	}
	save := forwardSaveFile(l)
	if _, err := os.Stat(save); errors.Is(err, fs.ErrNotExist) {
		if err := state.WriteFileAtomic(save, cur, 0o600); err != nil {
			return fmt.Errorf("remember ip_forward: %w", err)
		}
	}
	if strings.TrimSpace(string(cur)) == "1" {
		return nil
	}
	if err := os.WriteFile(ipForward, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("enable forwarding (%s): %w", ipForward, err)
	}
	return nil
}

// restoreForwarding writes back the remembered ip_forward once no running
// network forwards any more (except, the one stopping).
func restoreForwarding(l state.Layout, except string) error {
	if n, err := forwardingNetworks(l, except); err != nil || n > 0 {
		return err
	}
	save := forwardSaveFile(l)
	old, err := os.ReadFile(save)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read remembered ip_forward: %w", err)
	}
	if err := os.WriteFile(ipForward, old, 0o644); err != nil {
		return fmt.Errorf("restore %s: %w", ipForward, err)
	}
	if err := os.Remove(save); err != nil {
		return fmt.Errorf("restore ip_forward: %w", err)
	}
	return nil
}

// forwardingNetworks counts the running networks other than except that
// forward.
func forwardingNetworks(l state.Layout, except string) (int, error) {
	ents, err := os.ReadDir(netsRunDir(l))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("list running networks: %w", err)
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() || e.Name() == except {
			continue
		}
		if s, err := readRunState(l, e.Name()); err == nil && s.Forward != ForwardNone {
			n++
		}
	}
	return n, nil
}
