package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/libvirtrpc"
	"vmlite/service"
	"vmlite/state"
)

// rpcBackend is vmlite behind the RPC server: a thin mapping of each
// procedure onto the service, which the CLI calls too (same code, same
// locks, same typed errors). What is libvirt's alone stays here: its
// domain ref (uuid bytes, id -1 when not running) and that a stopped
// transient guest no longer exists.
type rpcBackend struct {
	app *App
	svc *service.Service
	// cache answers lists and lookups while the event watcher runs.
	cache *domainCache
	// listed is ListDomains' answer for the cache's rows of generation
	// listedGen (libvirt's view of each row, converted once, not per list).
	listMu    sync.Mutex
	listedGen uint64
	listed    []libvirtrpc.DomainInfo
	// kicked asks the Events loop for a rescan now: after a change made
	// through this daemon while no inotify instance watches (the 2 s
	// rescan alone would miss a state shorter than that: a guest paused
	// and resumed within it).
	kicked chan struct{}
}

func newRPCBackend(app *App) (*rpcBackend, error) {
	return &rpcBackend{app: app, svc: app.Svc(), cache: newDomainCache(), kicked: make(chan struct{}, 1)}, nil
}

// changed is called after every change made through the daemon: without
// an inotify watcher, the Events loop rescans at once.
func (b *rpcBackend) changed() {
	if b.cache.watching() {
		return // the watcher sees the change's writes
	}
	select {
	case b.kicked <- struct{}{}:
	default:
	}
}

// domains is every guest's row, from the cache when it is fresh, and the
// rows' generation (0: not cached).
func (b *rpcBackend) domains() ([]service.Domain, uint64, error) {
	return b.cache.list(func() ([]service.Domain, error) {
		return b.svc.List(context.Background(), service.ListOptions{All: true})
	}, func(name string) (*service.Domain, bool, error) {
		return b.svc.Listed(context.Background(), name)
	})
}

func uuidBytes(s string) [16]byte {
	var u [16]byte
	c, err := domain.ParseUUID(s)
	if err != nil {
		return u
	}
	b, err := hex.DecodeString(strings.ReplaceAll(c, "-", ""))
	if err == nil && len(b) == 16 {
		copy(u[:], b)
	}
	return u
}

// info is libvirt's view of a service Domain row.
func info(d *service.Domain) libvirtrpc.DomainInfo {
	di := libvirtrpc.DomainInfo{Name: d.Name, UUID: uuidBytes(d.UUID), ID: -1, Status: d.State, Reason: d.Reason,
		Persistent: d.Persistent, Autostart: d.Autostart}
	if d.Active() {
		di.ID = int32(d.ID)
	} else if d.State == state.Running || d.State == state.Stopping || d.State == state.Paused {
		// A supervisor without a running init yet (or any more).
		di.Status = state.Starting
	}
	return di
}

// exists reports whether d exists for libvirt: a guest known only from its
// last run's state (transient, stopped) is gone.
func exists(d *service.Domain) bool {
	return d.Persistent || d.Active() || (d.State != state.Shutoff && d.State != state.Crashed)
}

// ListDomains answers from the cache's rows; the slice is shared by the
// calls of one generation (callers do not change it).
func (b *rpcBackend) ListDomains() ([]libvirtrpc.DomainInfo, error) {
	rows, gen, err := b.domains()
	if err != nil {
		return nil, err
	}
	if gen != 0 {
		b.listMu.Lock()
		defer b.listMu.Unlock()
		if gen == b.listedGen {
			return b.listed, nil
		}
	}
	out := make([]libvirtrpc.DomainInfo, 0, len(rows))
	for i := range rows {
		if exists(&rows[i]) {
			out = append(out, info(&rows[i]))
		}
	}
	if gen != 0 && gen > b.listedGen { // under listMu (locked above)
		b.listedGen, b.listed = gen, out
	}
	return out, nil
}

func (b *rpcBackend) LookupDomain(name string) (libvirtrpc.DomainInfo, error) {
	// Without a watcher: one guest's files, not every guest's.
	if b.cache.watching() {
		if rows, _, err := b.domains(); err == nil {
			i := sort.Search(len(rows), func(i int) bool { return rows[i].Name >= name })
			if i < len(rows) && rows[i].Name == name && exists(&rows[i]) {
				return info(&rows[i]), nil
			}
		}
	}
	// Not listed (or the list failed): the service says why.
	d, err := b.svc.Lookup(context.Background(), name)
	if err != nil {
		return libvirtrpc.DomainInfo{}, err
	}
	if !exists(d) {
		return libvirtrpc.DomainInfo{}, &service.Error{Code: service.NoDomain,
			Err: fmt.Errorf("no domain with matching name '%s': %w", name, errdefs.ErrNotFound)}
	}
	return info(d), nil
}

func (b *rpcBackend) Resources(name string) (libvirtrpc.Resources, error) {
	in, err := b.svc.Info(context.Background(), name)
	if err != nil {
		return libvirtrpc.Resources{}, err
	}
	r := libvirtrpc.Resources{MaxMemKiB: in.MaxMemKiB, MemoryKiB: in.MemoryKiB, VCPUs: uint16(min(in.VCPUs, 65535))}
	if in.Stats {
		r.CPUTimeNs = uint64(in.CPUTime)
	}
	return r, nil
}

func (b *rpcBackend) DomainXML(name string, inactive bool) ([]byte, error) {
	return b.svc.DumpXML(context.Background(), name, inactive)
}

func (b *rpcBackend) Define(xml []byte) (libvirtrpc.DomainInfo, error) {
	defer b.changed()
	d, err := b.svc.Define(context.Background(), "(DOMAIN_DEFINE_XML)", xml)
	if err != nil {
		return libvirtrpc.DomainInfo{}, err
	}
	return b.LookupDomain(d.Name)
}

func (b *rpcBackend) Undefine(name string) error {
	defer b.changed()
	_, err := b.svc.Undefine(context.Background(), name, service.UndefineOptions{})
	return err
}

func (b *rpcBackend) Start(name string) error {
	defer b.changed()
	_, err := b.svc.Start(context.Background(), name)
	return err
}

func (b *rpcBackend) Create(xml []byte) (libvirtrpc.DomainInfo, error) {
	defer b.changed()
	st, err := b.svc.Create(context.Background(), "(DOMAIN_CREATE_XML)", xml)
	if err != nil {
		return libvirtrpc.DomainInfo{}, err
	}
	return b.LookupDomain(st.Name)
}

// Shutdown returns once the request is on its way: libvirt's shutdown
// does not wait for the guest to go down (callers poll the state or wait
// for the STOPPED event). On its way means that the guest's supervisor
// recorded it as stopping (it took the request and signalled init, or
// waits for init to handle the signal), or the guest is gone already. A
// stop that fails first (the guest stopped meanwhile, its supervisor does
// not answer) is the call's error rather than a line in the daemon's log
// with the client polling in vain.
func (b *rpcBackend) Shutdown(name string) error {
	defer b.changed()
	done := make(chan error, 1)
	go func() {
		_, err := b.svc.Shutdown(context.Background(), name, 0)
		if err != nil {
			fmt.Fprintf(b.app.Stderr, "vmlite serve: shutdown %s: %v\n", name, err)
		}
		done <- err
	}()
	tick := time.NewTicker(shutdownPoll)
	defer tick.Stop()
	deadline := time.NewTimer(shutdownAnswerMax)
	defer deadline.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			d, err := b.svc.Lookup(context.Background(), name)
			if err == nil && d.State != state.Stopping && d.Active() {
				continue
			}
			select {
			case err := <-done: // it ended meanwhile: its answer
				return err
			default:
				return nil
			}
		case <-deadline.C:
			return nil
		}
	}
}

// shutdownPoll is how often a shutdown call looks whether the stop is
// recorded; shutdownAnswerMax how long it waits for that at most (a
// supervisor that neither records nor fails: the stop goes on).
const (
	shutdownPoll      = 10 * time.Millisecond
	shutdownAnswerMax = 30 * time.Second
)

func (b *rpcBackend) Reboot(name string) error {
	defer b.changed()
	_, err := b.svc.Reboot(context.Background(), name, 0)
	return err
}

func (b *rpcBackend) Suspend(name string) error {
	defer b.changed()
	return b.svc.Suspend(context.Background(), name)
}

func (b *rpcBackend) Resume(name string) error {
	defer b.changed()
	return b.svc.Resume(context.Background(), name)
}

func (b *rpcBackend) Destroy(name string) error {
	defer b.changed()
	_, err := b.svc.Destroy(context.Background(), name)
	return err
}

func (b *rpcBackend) SetAutostart(name string, on bool) error {
	defer b.changed()
	return b.svc.SetAutostart(context.Background(), name, on)
}

func (b *rpcBackend) AttachDevice(name string, xml []byte, affect service.Affect) error {
	ws, err := b.svc.AttachDevice(context.Background(), name, "(DOMAIN_ATTACH_DEVICE)", xml, affect)
	b.warn(name, ws)
	return err
}

func (b *rpcBackend) DetachDevice(name string, xml []byte, affect service.Affect) error {
	ws, err := b.svc.DetachDevice(context.Background(), name, "(DOMAIN_DETACH_DEVICE)", xml, affect)
	b.warn(name, ws)
	return err
}

func (b *rpcBackend) UpdateDevice(name string, xml []byte, affect service.Affect) error {
	ws, err := b.svc.UpdateDevice(context.Background(), name, "(DOMAIN_UPDATE_DEVICE_FLAGS)", xml, affect)
	b.warn(name, ws)
	return err
}

func (b *rpcBackend) SetMemory(name string, kib uint64, affect service.Affect) error {
	ws, err := b.svc.SetMemory(context.Background(), name, kib*1024, affect)
	b.warn(name, ws)
	return err
}

func (b *rpcBackend) SetMaxMemory(name string, kib uint64, affect service.Affect) error {
	return b.svc.SetMaxMemory(context.Background(), name, kib*1024, affect)
}

func (b *rpcBackend) MemoryTune(name string, change service.MemoryChange, affect service.Affect) (service.Memory, error) {
	m, ws, err := b.svc.MemoryTune(context.Background(), name, change, affect)
	b.warn(name, ws)
	return m, err
}

func (b *rpcBackend) SchedInfo(name string, change service.SchedChange, affect service.Affect) (service.Sched, error) {
	sc, ws, err := b.svc.SchedInfo(context.Background(), name, change, affect)
	b.warn(name, ws)
	return sc, err
}

func (b *rpcBackend) BlkioTune(name string, change service.BlkioChange, affect service.Affect) (service.Blkio, error) {
	bl, ws, err := b.svc.BlkioTune(context.Background(), name, change, affect)
	b.warn(name, ws)
	return bl, err
}

// warn logs what a call did not apply but did not fail for: libvirt's
// replies have no room for warnings, and libvirtd logs them too.
func (b *rpcBackend) warn(name string, ws service.Warnings) {
	for _, w := range ws {
		fmt.Fprintf(b.app.Stderr, "vmlite serve: %s: warning: %s\n", name, w)
	}
}

func (b *rpcBackend) Console(ctx context.Context, name, dev string) (io.ReadWriteCloser, error) {
	if dev == "" {
		dev = "console0"
	}
	sock, err := b.app.consoleSocket(name, dev)
	if err != nil {
		return nil, err
	}
	return dialConsoleStream(ctx, sock)
}

func (b *rpcBackend) Addresses(name string) ([]libvirtrpc.Iface, error) {
	addrs, err := b.svc.InterfaceAddresses(context.Background(), name, "")
	if err != nil {
		return nil, err
	}
	byName := map[string]*libvirtrpc.Iface{}
	var out []libvirtrpc.Iface
	for _, a := range addrs {
		i := byName[a.Name]
		if i == nil {
			out = append(out, libvirtrpc.Iface{Name: a.Name, MAC: a.MAC})
			i = &out[len(out)-1]
			byName[a.Name] = i
		}
		if ip, n, ok := splitCIDR(a.CIDR); ok {
			i.Addrs = append(i.Addrs, libvirtrpc.IfaceAddr{Addr: ip, Prefix: n, V6: bytes.ContainsRune([]byte(ip), ':')})
		}
	}
	return out, nil
}

func splitCIDR(c string) (string, uint32, bool) {
	var ip string
	var n uint32
	i := bytes.IndexByte([]byte(c), '/')
	if i < 0 {
		return "", 0, false
	}
	ip = c[:i]
	if _, err := fmt.Sscanf(c[i+1:], "%d", &n); err != nil {
		return "", 0, false
	}
	return ip, n, true
}

// Hostname is the one vmlite set in the guest's UTS namespace at boot.
func (b *rpcBackend) Hostname(name string) (string, error) {
	g, err := b.svc.Running(context.Background(), name)
	if err != nil {
		return "", err
	}
	if g.Plan == nil || g.Plan.Hostname == "" {
		return name, nil
	}
	return g.Plan.Hostname, nil
}

func netInfo(n *service.Network) libvirtrpc.NetworkInfo {
	return libvirtrpc.NetworkInfo{Name: n.Name, UUID: uuidBytes(n.UUID), Active: n.Active,
		Persistent: !n.Transient, Autostart: n.Autostart, Bridge: n.Bridge}
}

func (b *rpcBackend) ListNetworks() ([]libvirtrpc.NetworkInfo, error) {
	ns, err := b.svc.Networks(context.Background())
	if err != nil {
		return nil, err
	}
	out := make([]libvirtrpc.NetworkInfo, 0, len(ns))
	for i := range ns {
		out = append(out, netInfo(&ns[i]))
	}
	return out, nil
}

func (b *rpcBackend) LookupNetwork(name string) (libvirtrpc.NetworkInfo, error) {
	n, err := b.svc.LookupNetwork(context.Background(), name)
	if err != nil {
		return libvirtrpc.NetworkInfo{}, err
	}
	return netInfo(n), nil
}

func (b *rpcBackend) NetworkXML(name string, inactive bool) ([]byte, error) {
	return b.svc.NetworkXML(context.Background(), name, inactive)
}

func (b *rpcBackend) DefineNetwork(xml []byte) (libvirtrpc.NetworkInfo, error) {
	defer b.changed()
	n, err := b.svc.DefineNetwork(context.Background(), "(NETWORK_DEFINE_XML)", xml)
	if err != nil {
		return libvirtrpc.NetworkInfo{}, err
	}
	return netInfo(n), nil
}

func (b *rpcBackend) CreateNetwork(xml []byte) (libvirtrpc.NetworkInfo, error) {
	defer b.changed()
	n, err := b.svc.CreateNetwork(context.Background(), "(NETWORK_CREATE_XML)", xml)
	if err != nil {
		return libvirtrpc.NetworkInfo{}, err
	}
	return netInfo(n), nil
}

func (b *rpcBackend) UndefineNetwork(name string) error {
	defer b.changed()
	return b.svc.UndefineNetwork(context.Background(), name)
}

func (b *rpcBackend) StartNetwork(name string) error {
	defer b.changed()
	return b.svc.StartNetwork(context.Background(), name)
}

func (b *rpcBackend) DestroyNetwork(name string) error {
	defer b.changed()
	return b.svc.DestroyNetwork(context.Background(), name)
}

func (b *rpcBackend) SetNetworkAutostart(name string, on bool) error {
	return b.svc.SetNetworkAutostart(context.Background(), name, on)
}

func (b *rpcBackend) NetworkDHCPLeases(name, mac string) ([]libvirtrpc.DHCPLease, error) {
	n, ls, err := b.svc.NetworkDHCPLeases(context.Background(), name, mac)
	if err != nil {
		return nil, err
	}
	var prefix uint32
	if c := n.IPv4(); c != nil {
		ones, _ := c.Net.Mask.Size()
		prefix = uint32(ones)
	}
	out := make([]libvirtrpc.DHCPLease, 0, len(ls))
	for _, l := range ls {
		d := libvirtrpc.DHCPLease{Iface: n.Bridge, MAC: l.MAC, IP: l.IP.String(), Prefix: prefix, Hostname: l.Hostname, ClientID: l.ClientID}
		if !l.Expiry.IsZero() {
			d.Expiry = l.Expiry.Unix()
		}
		out = append(out, d)
	}
	return out, nil
}
