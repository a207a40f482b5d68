package netdef

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"vmlite/internal/errdefs"
	"vmlite/state"
)

// Where a network's files live (see package state for the roots):
//
//	LIB/networks/NAME.xml             the definition (net-define)
//	LIB/networks/NAME.addresses.json  addresses given to guests (AllocateAddress);
//	                                  persistent, so a guest keeps its address
//	LIB/networks/autostart/NAME       autostart marker (net-autostart)
//	RUN/networks/.lock                serialises start, destroy and allocation
//	RUN/networks/.ip_forward          net.ipv4.ip_forward before vmlite set it
//	RUN/networks/NAME/state.json      what a running network created
//	RUN/networks/NAME/network.xml     the definition it was started with: a
//	                                  transient network's only one (Create)
//	RUN/networks/NAME/addresses.json  a transient network's address records
//	RUN/networks/NAME/dnsmasq.*       its DHCP server's pid, leases and log
//
// RUN/networks/NAME exists exactly while the network is active.

// DefinitionFile is where network name's definition is stored (its
// mtime says when it was last defined).
func DefinitionFile(l state.Layout, name string) string { return defFile(l, name) }

func defFile(l state.Layout, name string) string {
	return filepath.Join(l.NetworksDir(), name+".xml")
}

func allocFile(l state.Layout, name string) string {
	return filepath.Join(l.NetworksDir(), name+".addresses.json")
}

func liveDefFile(l state.Layout, name string) string {
	return filepath.Join(RunDir(l, name), "network.xml")
}

func transientAllocFile(l state.Layout, name string) string {
	return filepath.Join(RunDir(l, name), "addresses.json")
}

// allocations is where n's address records are: a transient network's
// go with its runtime directory.
func (n *Network) allocations(l state.Layout) string {
	if n.Transient {
		return transientAllocFile(l, n.Name)
	}
	return allocFile(l, n.Name)
}

// ErrTransient is the class of an operation that needs a stored
// definition (undefine, autostart) tried on a transient network; it
// comes with errdefs.ErrInvalid.
var ErrTransient = errors.New("transient network")

func autostartFile(l state.Layout, name string) string {
	return filepath.Join(l.NetworksDir(), "autostart", name)
}

func netsRunDir(l state.Layout) string { return filepath.Join(l.Run, "networks") }

// RunDir is the runtime directory of network name; it exists while the
// network is active.
func RunDir(l state.Layout, name string) string { return filepath.Join(netsRunDir(l), name) }

func runStateFile(l state.Layout, name string) string {
	return filepath.Join(RunDir(l, name), "state.json")
}

// Define checks network XML and stores it as its network's definition,
// replacing an earlier definition of the same name (which keeps its UUID and
// bridge MAC when the new XML gives none). A running network keeps running
// with its old settings until it is restarted, as in libvirt. The name, UUID
// and bridge must not belong to another network (errdefs.ErrAlreadyExists).
func Define(l state.Layout, file string, data []byte) (*Network, error) {
	n, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	others, err := List(l)
	if err != nil {
		return nil, err
	}
	var madePersistent *Network
	for _, o := range others {
		switch {
		case o.Name == n.Name:
			if o.Transient {
				// A running transient network becomes persistent, as in
				// libvirt: it runs on, and this is its next start's
				// definition.
				madePersistent = o
			}
			if n.uuidGiven && o.UUID != n.UUID {
				return nil, fmt.Errorf("%w: network %q is defined with UUID %s, not %s", errdefs.ErrAlreadyExists, n.Name, o.UUID, n.UUID)
			}
			if !n.uuidGiven {
				n.UUID, n.XML.UUID = o.UUID, o.UUID
			}
			if !n.macGiven {
				n.MAC, n.XML.MAC.Address = o.MAC, o.XML.MAC.Address
			}
		case o.UUID == n.UUID:
			return nil, fmt.Errorf("%w: UUID %s belongs to network %q", errdefs.ErrAlreadyExists, n.UUID, o.Name)
		case o.Bridge == n.Bridge:
			return nil, fmt.Errorf("%w: bridge %s belongs to network %q", errdefs.ErrAlreadyExists, n.Bridge, o.Name)
		}
	}
	b, err := n.Marshal()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(l.NetworksDir(), 0o755); err != nil {
		return nil, fmt.Errorf("define network %s: %w", n.Name, err)
	}
	if madePersistent != nil {
		// Its guests keep their addresses: the records move to where a
		// persistent network keeps them.
		a, err := os.ReadFile(transientAllocFile(l, n.Name))
		if err == nil {
			err = state.WriteFileAtomic(allocFile(l, n.Name), a, 0o644)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("define network %s: keep the addresses of its transient run: %w", n.Name, err)
		}
	}
	if err := state.WriteFileAtomic(defFile(l, n.Name), b, 0o600); err != nil {
		return nil, fmt.Errorf("define network %s: %w", n.Name, err)
	}
	n.layout = &l
	return n, nil
}

// Load reads the stored definition of network name, or, for a transient
// network that runs, the definition it was created with
// (errdefs.ErrNotFound when there is neither).
func Load(l state.Layout, name string) (*Network, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	path, transient := defFile(l, name), false
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && Active(l, name) {
		path, transient = liveDefFile(l, name), true
		b, err = os.ReadFile(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("network %q: %w", name, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read network %s: %w", name, err)
	}
	n, err := Parse(path, b)
	if err != nil {
		return nil, fmt.Errorf("stored definition of network %s: %w", name, err)
	}
	if n.Name != name {
		return nil, fmt.Errorf("%s defines network %q, not %q", path, n.Name, name)
	}
	n.Transient = transient
	n.layout = &l
	return n, nil
}

// LoadLive is the definition network name runs with while it is active
// (what Start kept in its runtime directory: a network redefined since
// runs on with its old settings), else Load's.
func LoadLive(l state.Layout, name string) (*Network, error) {
	n, err := Load(l, name)
	if err != nil || n.Transient || !Active(l, name) {
		return n, err
	}
	path := liveDefFile(l, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return n, nil // started before Start kept it
	}
	if err != nil {
		return nil, fmt.Errorf("read network %s: %w", name, err)
	}
	live, err := Parse(path, b)
	if err != nil {
		return nil, fmt.Errorf("running definition of network %s: %w", name, err)
	}
	live.layout = &l
	return live, nil
}

// List returns every defined network and every running transient one,
// sorted by name.
func List(l state.Layout) ([]*Network, error) {
	ents, err := os.ReadDir(l.NetworksDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var out []*Network
	seen := map[string]bool{}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".xml")
		if !ok || e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		n, err := Load(l, name)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		seen[name] = true
	}
	runs, err := os.ReadDir(netsRunDir(l))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	for _, e := range runs {
		name := e.Name()
		if !e.IsDir() || seen[name] || CheckName(name) != nil {
			continue
		}
		// A transient network counts once it is active; one being
		// created or destroyed is not listed (or is, whole).
		n, err := Load(l, name)
		if errors.Is(err, errdefs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Active reports whether network name runs (its runtime directory exists).
func Active(l state.Layout, name string) bool {
	_, err := os.Stat(runStateFile(l, name))
	return err == nil
}

// Undefine removes the definition of network name, its autostart marker and
// its address records. An active network runs on as a transient one, as
// in libvirt: with the definition it was started with, its address
// records moved to its runtime directory, gone once destroyed.
func Undefine(l state.Layout, name string) error {
	if err := persistent(l, name, "can't undefine transient network; fix: vmlite net-destroy "+name+" removes it"); err != nil {
		return err
	}
	unlock, err := lockNetworks(l)
	if err != nil {
		return err
	}
	defer unlock()
	if Active(l, name) {
		if err := keepRunning(l, name); err != nil {
			return fmt.Errorf("undefine network %s: %w", name, err)
		}
	}
	for _, p := range []string{autostartFile(l, name), allocFile(l, name), defFile(l, name)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("undefine network %s: %w", name, err)
		}
	}
	return nil
}

// SetAutostart marks (on) or unmarks network name for start at boot.
func SetAutostart(l state.Layout, name string, on bool) error {
	if err := persistent(l, name, "cannot set autostart for transient network; fix: define it first (vmlite net-define)"); err != nil {
		return err
	}
	p := autostartFile(l, name)
	if !on {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("autostart network %s: %w", name, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("autostart network %s: %w", name, err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		return fmt.Errorf("autostart network %s: %w", name, err)
	}
	return nil
}

// Autostart reports whether network name is marked for start at boot.
func Autostart(l state.Layout, name string) bool {
	_, err := os.Stat(autostartFile(l, name))
	return err == nil
}

// keepRunning gives active network name what a transient network has in
// its runtime directory: the definition it runs with (written by Start
// since transient networks exist; the stored one for a network started
// before) and its address records. Called with the lock held.
func keepRunning(l state.Layout, name string) error {
	if _, err := os.Stat(liveDefFile(l, name)); errors.Is(err, fs.ErrNotExist) {
		n, err := Load(l, name)
		if err != nil {
			return err
		}
		b, err := n.Marshal()
		if err != nil {
			return err
		}
		if err := state.WriteFileAtomic(liveDefFile(l, name), b, 0o600); err != nil {
			return err
		}
	}
	a, err := os.ReadFile(allocFile(l, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(transientAllocFile(l, name), a, 0o644)
}

// persistent refuses, with why, a network that is transient (ErrTransient)
// or missing (errdefs.ErrNotFound).
func persistent(l state.Layout, name, why string) error {
	n, err := Load(l, name)
	if err != nil {
		return err
	}
	if n.Transient {
		return &transientError{name: name, why: why}
	}
	return nil
}

// transientError is ErrTransient, and the user's error (errdefs.ErrInvalid).
type transientError struct{ name, why string }

func (e *transientError) Error() string { return "network " + e.name + " is transient: " + e.why }

func (e *transientError) Is(target error) bool {
	return target == ErrTransient || target == errdefs.ErrInvalid
}
