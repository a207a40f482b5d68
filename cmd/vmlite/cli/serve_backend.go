package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"vmlite/cgroup"
	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/libvirtrpc"
	"vmlite/netdef"
	"vmlite/service"
	"vmlite/state"
)

// rpcBackend is vmlite behind the RPC server: the domain lifecycle goes to
// the service package, as the CLI's does (same code, same locks, same
// errors). The remaining calls (dumpxml, setmem, networks) run the very
// CLI command a user would, in-process, which calls the service in turn.
// Reads go to the state files the CLI reads.
type rpcBackend struct {
	app *App
	svc *service.Service
	// xmlDir holds the XML of RPC define/create calls (a file argument,
	// as the CLI takes it); a transient guest's file stays for its reboots.
	xmlDir string
}

func newRPCBackend(app *App) (*rpcBackend, error) {
	dir := filepath.Join(app.Layout.Run, "rpc")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &rpcBackend{app: app, svc: app.Svc(), xmlDir: dir}, nil
}

// run runs one CLI command in-process and returns its standard output.
func (b *rpcBackend) run(args ...string) ([]byte, error) {
	var out, errb bytes.Buffer
	app := &App{Root: b.app.Root, Stdin: bytes.NewReader(nil), Stdout: &out, Stderr: &errb}
	root := NewRoot(app)
	root.SetArgs(append([]string{"--root", b.app.Root}, args...))
	if b.app.Root == "" {
		root.SetArgs(args)
	}
	err := root.Execute()
	return out.Bytes(), err
}

// xmlFile writes an RPC call's XML where the CLI can read it. The file is
// named after the domain, so that error messages name something the user
// recognises.
func (b *rpcBackend) xmlFile(kind string, xml []byte) (string, error) {
	d, _, err := domain.Parse("("+kind+" XML)", xml)
	name := "domain"
	if err == nil && d.XML != nil && domain.CheckName(d.XML.Name) == nil {
		name = d.XML.Name
	} else if err != nil && kind == "domain" {
		return "", err
	}
	f, err := os.CreateTemp(b.xmlDir, name+"-*.xml")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(xml); err != nil {
		return "", err
	}
	return f.Name(), nil
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

func (b *rpcBackend) info(g *guestInfo, withStats bool) libvirtrpc.DomainInfo {
	l := b.app.Layout
	di := libvirtrpc.DomainInfo{Name: g.Name, ID: -1, Status: state.Shutoff, Persistent: g.Defined, VCPUs: 1}
	if _, err := os.Stat(l.AutostartFile(g.Name)); err == nil {
		di.Autostart = true
	}
	var d *domain.Domain
	if g.Running || g.Orphaned {
		if bs, err := os.ReadFile(l.LiveXML(g.Name)); err == nil {
			d, _, _ = domain.Parse(l.LiveXML(g.Name), bs)
		}
	}
	if d == nil && g.Defined {
		d, _, _ = domain.ParseFile(l.DomainFile(g.Name))
	}
	if d != nil && d.XML != nil {
		di.UUID = uuidBytes(d.XML.UUID)
		if m := d.XML.Memory; m != nil {
			if v, err := domain.ScaledBytes(uint64(m.Value), m.Unit); err == nil {
				di.MaxMemKiB = v / 1024
			}
		}
		di.MemoryKiB = di.MaxMemKiB
		if m := d.XML.CurrentMemory; m != nil {
			if v, err := domain.ScaledBytes(uint64(m.Value), m.Unit); err == nil {
				di.MemoryKiB = v / 1024
			}
		}
		if d.XML.VCPU != nil && d.XML.VCPU.Value > 0 {
			di.VCPUs = uint16(d.XML.VCPU.Value)
		}
	}
	if st := g.State; st != nil {
		if di.UUID == ([16]byte{}) {
			di.UUID = uuidBytes(st.UUID)
		}
		di.Status, di.Reason = st.Status, st.Reason
	}
	switch {
	case g.Running && g.State != nil && g.State.InitPID > 0:
		di.ID = int32(g.State.InitPID)
	case g.Running:
		di.Status = state.Starting
	case g.Orphaned:
		di.Status = state.Orphaned
		if g.State != nil && g.State.InitPID > 0 {
			di.ID = int32(g.State.InitPID)
		}
	default:
		if di.Status == state.Running || di.Status == state.Starting || di.Status == state.Stopping {
			di.Status = state.Shutoff
		}
	}
	if withStats && di.ID > 0 && g.Plan != nil {
		if m, err := cgroup.Open(g.Plan.Cgroup); err == nil {
			if s, err := m.Stats(); err == nil {
				di.CPUTimeNs = uint64(s.CPUTime)
			}
		}
	}
	return di
}

func (b *rpcBackend) ListDomains() ([]libvirtrpc.DomainInfo, error) {
	rows, err := b.app.listGuests(true)
	if err != nil {
		return nil, err
	}
	out := make([]libvirtrpc.DomainInfo, 0, len(rows))
	for _, r := range rows {
		g, err := b.app.lookupGuest(r.Name)
		if err != nil {
			continue
		}
		out = append(out, b.info(g, false))
	}
	return out, nil
}

func (b *rpcBackend) LookupDomain(name string) (libvirtrpc.DomainInfo, error) {
	g, err := b.app.lookupGuest(name)
	if err != nil {
		return libvirtrpc.DomainInfo{}, err
	}
	// A guest known only from its last run's state (transient, stopped)
	// no longer exists for libvirt.
	if !g.Defined && !g.Running && !g.Orphaned {
		return libvirtrpc.DomainInfo{}, fmt.Errorf("no domain with matching name '%s': %w", name, errdefs.ErrNotFound)
	}
	return b.info(g, true), nil
}

func (b *rpcBackend) DomainXML(name string, inactive bool) ([]byte, error) {
	if inactive {
		return b.run("dumpxml", "--inactive", name)
	}
	return b.run("dumpxml", name)
}

func (b *rpcBackend) Define(xml []byte) (libvirtrpc.DomainInfo, error) {
	d, err := b.svc.Define(context.Background(), "(DOMAIN_DEFINE_XML)", xml)
	if err != nil {
		return libvirtrpc.DomainInfo{}, err
	}
	return b.LookupDomain(d.Name)
}

func (b *rpcBackend) Undefine(name string) error {
	_, err := b.svc.Undefine(context.Background(), name, service.UndefineOptions{})
	return err
}

func (b *rpcBackend) Start(name string) error {
	_, err := b.svc.Start(context.Background(), name)
	return err
}

func (b *rpcBackend) Create(xml []byte) (libvirtrpc.DomainInfo, error) {
	st, err := b.svc.Create(context.Background(), "(DOMAIN_CREATE_XML)", xml)
	if err != nil {
		return libvirtrpc.DomainInfo{}, err
	}
	return b.LookupDomain(st.Name)
}

// Shutdown returns once the request is on its way: libvirt's shutdown
// does not wait for the guest to go down (callers poll the state or wait
// for the STOPPED event).
func (b *rpcBackend) Shutdown(name string) error {
	go func() {
		if _, err := b.svc.Shutdown(context.Background(), name, 0); err != nil {
			fmt.Fprintf(b.app.Stderr, "vmlite serve: shutdown %s: %v\n", name, err)
		}
	}()
	return nil
}

func (b *rpcBackend) Reboot(name string) error {
	_, err := b.svc.Reboot(context.Background(), name, 0)
	return err
}

func (b *rpcBackend) Destroy(name string) error {
	_, err := b.svc.Destroy(context.Background(), name)
	return err
}

func (b *rpcBackend) SetAutostart(name string, on bool) error {
	return b.svc.SetAutostart(context.Background(), name, on)
}

func (b *rpcBackend) SetMemory(name string, kib uint64, live, config bool) error {
	args := []string{"setmem", name, fmt.Sprintf("%dKiB", kib)}
	switch {
	case live && config:
		args = append(args, "--live", "--config")
	case live:
		args = append(args, "--live")
	case config:
		args = append(args, "--config")
	}
	_, err := b.run(args...)
	return err
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
	g, err := b.app.requireRunning(name)
	if err != nil {
		return "", err
	}
	if g.Plan == nil || g.Plan.Hostname == "" {
		return name, nil
	}
	return g.Plan.Hostname, nil
}

func (b *rpcBackend) netInfo(n *netdef.Network) libvirtrpc.NetworkInfo {
	l := b.app.Layout
	return libvirtrpc.NetworkInfo{Name: n.Name, UUID: uuidBytes(n.UUID), Active: netdef.Active(l, n.Name),
		Persistent: true, Autostart: netdef.Autostart(l, n.Name), Bridge: n.Bridge}
}

func (b *rpcBackend) ListNetworks() ([]libvirtrpc.NetworkInfo, error) {
	ns, err := netdef.List(b.app.Layout)
	if err != nil {
		return nil, err
	}
	out := make([]libvirtrpc.NetworkInfo, 0, len(ns))
	for _, n := range ns {
		out = append(out, b.netInfo(n))
	}
	return out, nil
}

func (b *rpcBackend) LookupNetwork(name string) (libvirtrpc.NetworkInfo, error) {
	n, err := netdef.Load(b.app.Layout, name)
	if err != nil {
		return libvirtrpc.NetworkInfo{}, err
	}
	return b.netInfo(n), nil
}

func (b *rpcBackend) NetworkXML(name string) ([]byte, error) { return b.run("net-dumpxml", name) }

func (b *rpcBackend) DefineNetwork(xml []byte) (libvirtrpc.NetworkInfo, error) {
	f, err := b.xmlFile("network", xml)
	if err != nil {
		return libvirtrpc.NetworkInfo{}, err
	}
	defer os.Remove(f)
	before, _ := netdef.List(b.app.Layout)
	if _, err := b.run("net-define", f); err != nil {
		return libvirtrpc.NetworkInfo{}, err
	}
	after, err := netdef.List(b.app.Layout)
	if err != nil {
		return libvirtrpc.NetworkInfo{}, err
	}
	// The name is the one net-define stored: the newest, or the one the
	// XML names when it was redefined.
	for _, n := range after {
		if bytes.Contains(xml, []byte("<name>"+n.Name+"</name>")) {
			return b.netInfo(n), nil
		}
	}
	if len(after) > len(before) {
		return b.netInfo(after[len(after)-1]), nil
	}
	return libvirtrpc.NetworkInfo{}, fmt.Errorf("network defined, but not found afterwards")
}

func (b *rpcBackend) UndefineNetwork(name string) error {
	_, err := b.run("net-undefine", name)
	return err
}

func (b *rpcBackend) StartNetwork(name string) error {
	_, err := b.run("net-start", name)
	return err
}

func (b *rpcBackend) DestroyNetwork(name string) error {
	_, err := b.run("net-destroy", name)
	return err
}

func (b *rpcBackend) SetNetworkAutostart(name string, on bool) error {
	args := []string{"net-autostart", name}
	if !on {
		args = append(args, "--disable")
	}
	_, err := b.run(args...)
	return err
}
