package libvirtrpc

import (
	"context"
	"io"

	"vmlite/service"
	"vmlite/state"
)

// DomainInfo is what the server needs to know of a guest to answer
// lookups, lists and info calls.
type DomainInfo struct {
	Name string
	UUID [16]byte
	// ID is the live id of a running guest (its init's pid, which is
	// unique among running guests); -1 when it does not run.
	ID         int32
	Status     state.Status
	Reason     state.Reason
	Persistent bool
	Autostart  bool
}

// Resources are virDomainGetInfo's figures of a guest: its sizes (of the
// definition it runs with, else the stored one) and, while it runs, its
// CPU time.
type Resources struct {
	MemoryKiB uint64 // current memory limit
	MaxMemKiB uint64
	VCPUs     uint16
	CPUTimeNs uint64
}

// Active reports whether the guest runs (as libvirt counts it: anything
// with a supervisor or live processes).
func (d DomainInfo) Active() bool { return d.ID > 0 }

// NetworkInfo is what the server needs of a managed network.
type NetworkInfo struct {
	Name       string
	UUID       [16]byte
	Active     bool
	Persistent bool
	Autostart  bool
	Bridge     string
}

// Backend is every operation the server needs of vmlite: the service's,
// which the CLI runs too, taking the same locks. Errors are service.Errors,
// whose Code picks libvirt's error number (toError).
type Backend interface {
	// ListDomains returns every guest; the slice may be shared with other
	// calls: callers do not change it.
	ListDomains() ([]DomainInfo, error)
	LookupDomain(name string) (DomainInfo, error)
	Resources(name string) (Resources, error)
	DomainXML(name string, inactive bool) ([]byte, error)
	Define(xml []byte) (DomainInfo, error)
	Undefine(name string) error
	// Start boots a defined guest; Create a transient one from XML. Both
	// return once its init runs.
	Start(name string) error
	Create(xml []byte) (DomainInfo, error)
	// Shutdown asks the guest's init to power off and returns without
	// waiting for it (libvirt's virDomainShutdown).
	Shutdown(name string) error
	Reboot(name string) error
	// Suspend freezes a running guest, Resume thaws it.
	Suspend(name string) error
	Resume(name string) error
	// Destroy kills the guest and returns when it is gone.
	Destroy(name string) error
	SetAutostart(name string, on bool) error
	// SetMemory and the tuning calls take libvirt's VIR_DOMAIN_AFFECT_*
	// flags, which service.Affect shares.
	SetMemory(name string, kib uint64, affect service.Affect) error
	// SetMaxMemory sets a stored definition's maximum (<memory>); a
	// running guest's does not change (OPERATION_INVALID).
	SetMaxMemory(name string, kib uint64, affect service.Affect) error
	MemoryTune(name string, change service.MemoryChange, affect service.Affect) (service.Memory, error)
	SchedInfo(name string, change service.SchedChange, affect service.Affect) (service.Sched, error)
	BlkioTune(name string, change service.BlkioChange, affect service.Affect) (service.Blkio, error)
	// AttachDevice, DetachDevice and UpdateDevice change a guest's devices
	// from a device XML (virsh attach-device, detach-device,
	// update-device), with libvirt's affect flags.
	AttachDevice(name string, xml []byte, affect service.Affect) error
	DetachDevice(name string, xml []byte, affect service.Affect) error
	UpdateDevice(name string, xml []byte, affect service.Affect) error
	// Console connects to console dev ("" = the first) of a running guest.
	Console(ctx context.Context, name, dev string) (io.ReadWriteCloser, error)
	Addresses(name string) ([]Iface, error)
	Hostname(name string) (string, error)

	ListNetworks() ([]NetworkInfo, error)
	LookupNetwork(name string) (NetworkInfo, error)
	// NetworkXML is what an active network runs with, or with inactive
	// its stored definition.
	NetworkXML(name string, inactive bool) ([]byte, error)
	DefineNetwork(xml []byte) (NetworkInfo, error)
	// CreateNetwork starts a transient network (not Persistent; gone
	// once destroyed).
	CreateNetwork(xml []byte) (NetworkInfo, error)
	UndefineNetwork(name string) error
	StartNetwork(name string) error
	DestroyNetwork(name string) error
	SetNetworkAutostart(name string, on bool) error
	// NetworkDHCPLeases is the DHCP server's unexpired leases of an
	// active network, of MAC mac alone when it is not "".
	NetworkDHCPLeases(name, mac string) ([]DHCPLease, error)

	// Events delivers every lifecycle change of guests and networks,
	// whoever made it (RPC, CLI, the guest itself), until ctx ends.
	Events(ctx context.Context, out chan<- Event) error
}

// DHCPLease is one lease of a managed network's DHCP server.
type DHCPLease struct {
	Iface    string // the network's bridge
	Expiry   int64  // Unix seconds; 0: never
	MAC, IP  string
	Prefix   uint32
	Hostname string // "": none sent
	ClientID string // "": none sent
}

// Iface is one guest interface and its addresses.
type Iface struct {
	Name  string
	MAC   string
	Addrs []IfaceAddr
}

// IfaceAddr is an address with its prefix length; V6 tells the family.
type IfaceAddr struct {
	Addr   string
	Prefix uint32
	V6     bool
}

// Event is one lifecycle change. Domain events carry libvirt's
// virDomainEventType and detail; Reboot marks a guest's reboot (event id
// REBOOT, no detail); Network events virNetworkEventLifecycleType.
type Event struct {
	Network bool
	Reboot  bool
	Name    string
	UUID    [16]byte
	ID      int32
	Type    int32
	Detail  int32
}
