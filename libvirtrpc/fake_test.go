package libvirtrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"vmlite/internal/errdefs"
	"vmlite/service"
	"vmlite/state"
)

// fakeBackend keeps domains in memory: enough to drive the protocol.
type fakeBackend struct {
	mu     sync.Mutex
	doms   map[string]*DomainInfo
	events chan Event
	tuned  tuned
	// watching is closed once the server listens for the backend's events
	// (its Run has started everything it keeps running).
	watching  chan struct{}
	watchOnce sync.Once
}

func newFake() *fakeBackend {
	return &fakeBackend{doms: map[string]*DomainInfo{}, events: make(chan Event, 16), watching: make(chan struct{})}
}

func (f *fakeBackend) add(name string, running bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := &DomainInfo{Name: name, ID: -1, Status: state.Shutoff, Persistent: true}
	copy(d.UUID[:], fmt.Sprintf("%-16s", name))
	if running {
		d.ID, d.Status = 100+int32(len(f.doms)), state.Running
	}
	f.doms[name] = d
}

func (f *fakeBackend) ListDomains() ([]DomainInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []DomainInfo
	for _, d := range f.doms {
		out = append(out, *d)
	}
	return out, nil
}

func (f *fakeBackend) LookupDomain(name string) (DomainInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.doms[name]
	if !ok {
		return DomainInfo{}, &service.Error{Code: service.NoDomain, Err: fmt.Errorf("guest %q: %w", name, errdefs.ErrNotFound)}
	}
	return *d, nil
}

func (f *fakeBackend) DomainXML(name string, inactive bool) ([]byte, error) {
	return []byte("<domain type='lxc'><name>" + name + "</name></domain>"), nil
}
func (f *fakeBackend) Define(xml []byte) (DomainInfo, error) {
	return DomainInfo{}, &service.Error{Code: service.XMLError, Err: errors.New("(DOMAIN_DEFINE_XML):1: /domain: no <name>")}
}
func (f *fakeBackend) Undefine(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.doms, name)
	return nil
}
func (f *fakeBackend) Start(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.doms[name].ID, f.doms[name].Status = 7, state.Running
	return nil
}
func (f *fakeBackend) Create(xml []byte) (DomainInfo, error) { return DomainInfo{}, errdefs.ErrInvalid }
func (f *fakeBackend) Shutdown(name string) error            { return f.Destroy(name) }
func (f *fakeBackend) Reboot(name string) error              { return nil }
func (f *fakeBackend) Suspend(name string) error             { return f.setStatus(name, state.Paused) }
func (f *fakeBackend) Resume(name string) error              { return f.setStatus(name, state.Running) }
func (f *fakeBackend) setStatus(name string, st state.Status) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.doms[name].Status = st
	return nil
}
func (f *fakeBackend) Destroy(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.doms[name].ID, f.doms[name].Status = -1, state.Shutoff
	return nil
}
func (f *fakeBackend) SetAutostart(name string, on bool) error { return nil }
func (f *fakeBackend) Resources(name string) (Resources, error) {
	if _, err := f.LookupDomain(name); err != nil {
		return Resources{}, err
	}
	return Resources{MaxMemKiB: 1024, MemoryKiB: 1024, VCPUs: 1}, nil
}
func (f *fakeBackend) SetMemory(name string, kib uint64, affect service.Affect) error    { return nil }
func (f *fakeBackend) SetMaxMemory(name string, kib uint64, affect service.Affect) error { return nil }
func (f *fakeBackend) AttachDevice(name string, xml []byte, affect service.Affect) error { return nil }
func (f *fakeBackend) DetachDevice(name string, xml []byte, affect service.Affect) error { return nil }
func (f *fakeBackend) UpdateDevice(name string, xml []byte, affect service.Affect) error { return nil }

// The tuning calls record what they were asked and answer what tuned
// holds.
func (f *fakeBackend) MemoryTune(name string, c service.MemoryChange, affect service.Affect) (service.Memory, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tuned.calls = append(f.tuned.calls, tuneCall{name, c, affect})
	return f.tuned.mem, nil
}
func (f *fakeBackend) SchedInfo(name string, c service.SchedChange, affect service.Affect) (service.Sched, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tuned.calls = append(f.tuned.calls, tuneCall{name, c, affect})
	if c.Shares != nil && *c.Shares == 1 {
		return service.Sched{}, &service.Error{Code: service.InvalidArg, Err: errors.New("cpu shares 1: must be 2..262144: invalid argument")}
	}
	return f.tuned.sched, nil
}
func (f *fakeBackend) BlkioTune(name string, c service.BlkioChange, affect service.Affect) (service.Blkio, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tuned.calls = append(f.tuned.calls, tuneCall{name, c, affect})
	return f.tuned.blkio, nil
}

type tuneCall struct {
	name   string
	change any
	affect service.Affect
}

type tuned struct {
	mem   service.Memory
	sched service.Sched
	blkio service.Blkio
	calls []tuneCall
}

func (f *fakeBackend) Console(ctx context.Context, name, dev string) (io.ReadWriteCloser, error) {
	return nil, errdefs.ErrNotFound
}
func (f *fakeBackend) Addresses(name string) ([]Iface, error) { return nil, nil }
func (f *fakeBackend) Hostname(name string) (string, error)   { return name, nil }
func (f *fakeBackend) ListNetworks() ([]NetworkInfo, error)   { return nil, nil }
func (f *fakeBackend) LookupNetwork(name string) (NetworkInfo, error) {
	return NetworkInfo{}, &service.Error{Code: service.NoNetwork, Err: errdefs.ErrNotFound}
}
func (f *fakeBackend) NetworkXML(name string, inactive bool) ([]byte, error) {
	return nil, errdefs.ErrNotFound
}
func (f *fakeBackend) DefineNetwork(xml []byte) (NetworkInfo, error) {
	return NetworkInfo{}, errdefs.ErrInvalid
}
func (f *fakeBackend) CreateNetwork(xml []byte) (NetworkInfo, error) {
	return NetworkInfo{}, errdefs.ErrInvalid
}
func (f *fakeBackend) UndefineNetwork(name string) error              { return errdefs.ErrNotFound }
func (f *fakeBackend) StartNetwork(name string) error                 { return errdefs.ErrNotFound }
func (f *fakeBackend) DestroyNetwork(name string) error               { return errdefs.ErrNotFound }
func (f *fakeBackend) SetNetworkAutostart(name string, on bool) error { return errdefs.ErrNotFound }
func (f *fakeBackend) NetworkDHCPLeases(name, mac string) ([]DHCPLease, error) {
	return nil, errdefs.ErrNotFound
}
func (f *fakeBackend) Events(ctx context.Context, out chan<- Event) error {
	f.watchOnce.Do(func() { close(f.watching) })
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-f.events:
			out <- ev
		}
	}
}

// testServer serves fake on a unix socket in a temp dir; ro and rw
// listeners both.
type testServer struct {
	srv    *Server
	fake   *fakeBackend
	rw, ro string
	cancel context.CancelFunc
}

func startServer(t testing.TB, maxConns int) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{fake: newFake(), rw: dir + "/sock", ro: dir + "/sock-ro"}
	ts.srv = New(Config{Backend: ts.fake, MaxConns: maxConns, Logf: t.Logf})
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	for _, p := range []struct {
		path string
		ro   bool
	}{{ts.rw, false}, {ts.ro, true}} {
		l, err := net.Listen("unix", p.path)
		if err != nil {
			t.Fatal(err)
		}
		go ts.srv.Serve(l, p.ro)
	}
	go ts.srv.Run(ctx)
	t.Cleanup(func() { cancel(); ts.srv.Close() })
	// Tests that count goroutines start from the server's steady state.
	select {
	case <-ts.fake.watching:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start watching events within 10 s")
	}
	return ts
}

func dial(t testing.TB, sock string) *libvirt.Libvirt {
	t.Helper()
	l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(sock), dialers.WithLocalTimeout(5*time.Second)))
	if err := l.ConnectToURI(libvirt.ConnectURI("lxc:///system")); err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = l.Disconnect() })
	return l
}
