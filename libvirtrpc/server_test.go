package libvirtrpc

import (
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"vmlite/internal/testutil"
)

func libvirtCode(err error) libvirt.ErrorNumber {
	var le libvirt.Error
	if errors.As(err, &le) {
		return libvirt.ErrorNumber(le.Code)
	}
	return -1
}

func TestHandshakeAndDomains(t *testing.T) {
	ts := startServer(t, 0)
	ts.fake.add("on", true)
	ts.fake.add("off", false)
	l := dial(t, ts.rw)

	if typ, err := l.ConnectGetType(); err != nil || typ != "LXC" {
		t.Errorf("GetType = %q, %v", typ, err)
	}
	if v, err := l.ConnectGetLibVersion(); err != nil || v < 9000000 {
		t.Errorf("GetLibVersion = %d, %v", v, err)
	}
	if caps, err := l.ConnectGetCapabilities(); err != nil || !strings.Contains(caps, "<os_type>exe</os_type>") || !strings.Contains(caps, "<domain type='lxc'/>") {
		t.Errorf("capabilities = %q, %v", caps, err)
	}
	for _, f := range []int32{featureProgramKeepalive, featureRemoteEventCallback, featureRemoteCloseCallback} {
		if yes, err := l.ConnectSupportsFeature(f); err != nil || yes != 1 {
			t.Errorf("feature %d = %d, %v", f, yes, err)
		}
	}
	active, _, err := l.ConnectListAllDomains(1, libvirt.ConnectListDomainsActive)
	if err != nil || len(active) != 1 || active[0].Name != "on" || active[0].ID <= 0 {
		t.Fatalf("active list = %+v, %v", active, err)
	}
	all, n, err := l.ConnectListAllDomains(1, libvirt.ConnectListDomainsActive|libvirt.ConnectListDomainsInactive)
	if err != nil || len(all) != 2 || n != 2 {
		t.Fatalf("full list = %+v (%d), %v", all, n, err)
	}
	off, err := l.DomainLookupByName("off")
	if err != nil || off.ID != -1 {
		t.Fatalf("lookup off = %+v, %v", off, err)
	}
	if st, reason, err := l.DomainGetState(active[0], 0); err != nil || st != int32(libvirt.DomainRunning) || reason != int32(libvirt.DomainRunningBooted) {
		t.Errorf("state = %d/%d, %v", st, reason, err)
	}
	_, err = l.DomainLookupByName("nosuch")
	if libvirtCode(err) != libvirt.ErrNoDomain || !libvirt.IsNotFound(err) {
		t.Errorf("lookup miss: %v (code %d), want NO_DOMAIN 42", err, libvirtCode(err))
	}
	if err := l.DomainDestroy(off); libvirtCode(err) != libvirt.ErrOperationInvalid || !strings.Contains(err.Error(), "domain is not running") {
		t.Errorf("destroy of a shut-off domain: %v, want OPERATION_INVALID 55", err)
	}
	if err := l.DomainCreate(off); err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, _, err := l.DomainGetVcpus(off, 1, 1); libvirtCode(err) != libvirt.ErrNoSupport {
		t.Errorf("GetVcpus: %v, want NO_SUPPORT 3", err)
	}
	// DEFINE_XML's backend error class (a user error) becomes XML_ERROR.
	if _, err := l.DomainDefineXML("<domain/>"); libvirtCode(err) != libvirt.ErrXMLError {
		t.Errorf("define: %v, want XML_ERROR", err)
	}
	// Every undefine flag is accepted (Terraform's provider sends NVRAM|TPM).
	if err := l.DomainUndefineFlags(off, libvirt.DomainUndefineNvram|libvirt.DomainUndefineTpm); err != nil {
		t.Errorf("undefine with flags: %v", err)
	}
}

func TestReadOnlySocketRefusesMutations(t *testing.T) {
	ts := startServer(t, 0)
	ts.fake.add("on", true)
	l := dial(t, ts.ro)
	d, err := l.DomainLookupByName("on")
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"destroy":   func() error { return l.DomainDestroy(d) },
		"shutdown":  func() error { return l.DomainShutdown(d) },
		"undefine":  func() error { return l.DomainUndefine(d) },
		"define":    func() error { _, err := l.DomainDefineXML("<domain/>"); return err },
		"autostart": func() error { return l.DomainSetAutostart(d, 1) },
	} {
		if err := call(); libvirtCode(err) != libvirt.ErrOperationDenied {
			t.Errorf("%s on the read-only socket: %v, want OPERATION_DENIED 29", name, err)
		}
	}
	if _, _, err := l.ConnectListAllDomains(1, 0); err != nil {
		t.Errorf("list on the read-only socket: %v", err)
	}
}

func TestEventsReachRegisteredClients(t *testing.T) {
	ts := startServer(t, 0)
	ts.fake.add("g", true)
	l := dial(t, ts.rw)
	ctx := t.Context()
	evs, err := l.LifecycleEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var u [16]byte
	copy(u[:], "g               ")
	ts.fake.events <- Event{Name: "g", UUID: u, ID: 5, Type: int32(libvirt.DomainEventStarted)}
	select {
	case ev := <-evs:
		if ev.Dom.Name != "g" || ev.Event != int32(libvirt.DomainEventStarted) {
			t.Errorf("event = %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no lifecycle event within 10s")
	}
}

// rawCall sends one CALL and returns the reply's header and body.
func rawCall(t testing.TB, nc net.Conn, proc int32, serial uint32, body []byte) (Header, []byte) {
	t.Helper()
	f, err := AppendFrame(nil, Header{Program: remoteProgram, Version: remoteVersion, Procedure: proc, Type: typeCall, Serial: serial}, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write(f); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	h, b, _, err := ReadFrame(nc, nil)
	if err != nil {
		t.Fatalf("reply to %d: %v", proc, err)
	}
	return h, b
}

func TestMalformedInputNeverStopsTheServer(t *testing.T) {
	ts := startServer(t, 0)
	ts.fake.add("g", true)
	// A length below the header, and one above the limit: the connection
	// is closed, the server goes on.
	for _, n := range []uint32{0, 4, 27, maxPacketLen + 1, 0xffffffff} {
		nc, err := net.Dial("unix", ts.rw)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = nc.Write(binary.BigEndian.AppendUint32(nil, n))
		_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Read(make([]byte, 1)); err == nil {
			t.Errorf("length %d: the server answered instead of closing", n)
		}
		nc.Close()
	}
	nc, err := net.Dial("unix", ts.rw)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Before CONNECT_OPEN: refused, not served.
	if h, _ := rawCall(t, nc, procConnectListAllDomains, 1, make([]byte, 8)); h.Status != statusError {
		t.Errorf("list before open: status %d", h.Status)
	}
	if h, _ := rawCall(t, nc, procConnectOpen, 2, make([]byte, 8)); h.Status != statusOK {
		t.Fatalf("open: status %d", h.Status)
	}
	// Truncated arguments, an unknown procedure, a huge array count, an
	// unknown program: each an error reply.
	for _, c := range []struct {
		proc int32
		body []byte
		code libvirt.ErrorNumber
	}{
		{procDomainLookupByName, []byte{0, 0, 0, 9, 'a'}, libvirt.ErrRPC},
		{procDomainLookupByName, []byte{0xff, 0xff, 0xff, 0xff}, libvirt.ErrRPC},
		{9999, nil, libvirt.ErrRPC},
		{procConnectGetAllDomainStatsForTest, nil, libvirt.ErrNoSupport},
	} {
		h, b := rawCall(t, nc, c.proc, 3, c.body)
		var re remoteError
		if h.Status != statusError || decode(b, &re) != nil || libvirt.ErrorNumber(re.Code) != c.code {
			t.Errorf("proc %d body %x: status %d code %d, want error %d", c.proc, c.body, h.Status, re.Code, c.code)
		}
	}
	f, _ := AppendFrame(nil, Header{Program: 0x1234, Version: 1, Procedure: 1, Type: typeCall, Serial: 4}, nil)
	_, _ = nc.Write(f)
	if h, _, _, err := ReadFrame(nc, nil); err != nil || h.Status != statusError {
		t.Errorf("unknown program: %+v %v", h, err)
	}
	// The server still serves a well-behaved client.
	l := dial(t, ts.rw)
	if _, err := l.DomainLookupByName("g"); err != nil {
		t.Errorf("after the malformed clients: %v", err)
	}
}

// procConnectGetAllDomainStatsForTest is a real procedure vmlite does not
// implement (virt-manager falls back on NO_SUPPORT).
const procConnectGetAllDomainStatsForTest = 344

func TestConnectionLimitAndStalledClient(t *testing.T) {
	ts := startServer(t, 3)
	ts.fake.add("g", true)
	// A client that registers for events and never reads: it is dropped
	// when its queue fills, and does not hold up the others.
	stalled, err := net.Dial("unix", ts.rw)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	rawCall(t, stalled, procConnectOpen, 1, make([]byte, 8))
	rawCall(t, stalled, procConnectDomainEventCallbackRegisterAny, 2, make([]byte, 8))
	l := dial(t, ts.rw)
	evs, err := l.LifecycleEvents(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range evs {
		}
	}()
	// Events until the stalled client's queues and socket buffer are full.
	testutil.WaitFor(t, 60*time.Second, "the stalled client to be dropped", func() bool {
		for i := 0; i < 512; i++ {
			ts.fake.events <- Event{Name: "g", Type: int32(libvirt.DomainEventStarted)}
		}
		return ts.srv.Conns() == 1
	})
	if _, err := l.DomainLookupByName("g"); err != nil {
		t.Errorf("the reading client: %v", err)
	}
	// The limit: 3 open, the 4th is closed at once.
	a, b := dial(t, ts.rw), dial(t, ts.rw)
	_, _ = a, b
	nc, err := net.Dial("unix", ts.rw)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err == nil {
		t.Error("a connection over the limit was served")
	}
}

// TestNoGoroutineGrowth: 50 clients at once listing and looking up, then
// gone: the server's goroutines return to their count before.
func TestNoGoroutineGrowth(t *testing.T) {
	ts := startServer(t, 0)
	ts.fake.add("g", true)
	warm := dial(t, ts.rw)
	if _, _, err := warm.ConnectListAllDomains(1, 0); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(ts.rw), dialers.WithLocalTimeout(10*time.Second)))
			if err := l.ConnectToURI(libvirt.ConnectURI("lxc:///system")); err != nil {
				errs <- err
				return
			}
			defer l.Disconnect()
			for j := 0; j < 20; j++ {
				if _, _, err := l.ConnectListAllDomains(1, 0); err != nil {
					errs <- err
					return
				}
				if _, err := l.DomainLookupByName("g"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("client: %v", err)
	}
	testutil.WaitFor(t, 20*time.Second, "goroutines back to the baseline", func() bool { return runtime.NumGoroutine() <= base })
}

// TestLXCDriverAnswers: calls answered as libvirt's LXC driver answers
// them (lxc_driver.c): an agent as the address source, resuming a running
// domain, DHCP leases of a network that is not there; setmaxmem reaches
// the backend.
func TestLXCDriverAnswers(t *testing.T) {
	ts := startServer(t, 0)
	ts.fake.add("on", true)
	l := dial(t, ts.rw)
	on, err := l.DomainLookupByName("on")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.DomainInterfaceAddresses(on, uint32(libvirt.DomainInterfaceAddressesSrcAgent), 0); libvirtCode(err) != libvirt.ErrArgumentUnsupported {
		t.Errorf("addresses from the agent: %v, want ARGUMENT_UNSUPPORTED", err)
	}
	if _, err := l.DomainInterfaceAddresses(on, uint32(libvirt.DomainInterfaceAddressesSrcLease), 0); err != nil {
		t.Errorf("addresses from the leases: %v", err)
	}
	if err := l.DomainResume(on); libvirtCode(err) != libvirt.ErrOperationInvalid || !strings.Contains(err.Error(), "domain is already running") {
		t.Errorf("resume of a running domain: %v, want OPERATION_INVALID 'domain is already running'", err)
	}
	if err := l.DomainSetMemoryFlags(on, 262144, uint32(libvirt.DomainMemMaximum|libvirt.DomainMemConfig)); err != nil {
		t.Errorf("setmaxmem --config: %v", err)
	}
	if err := l.DomainSetMemoryFlags(on, 262144, uint32(libvirt.DomainMemMaximum)|8); libvirtCode(err) != libvirt.ErrInvalidArg {
		t.Errorf("setmaxmem with an unknown flag: %v, want INVALID_ARG", err)
	}
	if _, _, err := l.NetworkGetDhcpLeases(libvirt.Network{Name: "nosuch"}, nil, 1, 0); libvirtCode(err) != libvirt.ErrNoNetwork {
		t.Errorf("leases of a missing network: %v, want NO_NETWORK", err)
	}
	// AFFECT_LIVE of a domain that does not run: libvirt's "domain is
	// not running", for reads, changes and devices alike.
	ts.fake.add("off", false)
	off, err := l.DomainLookupByName("off")
	if err != nil {
		t.Fatal(err)
	}
	live := uint32(libvirt.DomainAffectLive)
	for what, err := range map[string]error{
		"memtune --live":       func() error { _, _, err := l.DomainGetMemoryParameters(off, 3, live); return err }(),
		"schedinfo --live":     func() error { _, err := l.DomainGetSchedulerParametersFlags(off, 3, live); return err }(),
		"setmem --live":        l.DomainSetMemoryFlags(off, 262144, live),
		"attach-device --live": l.DomainAttachDeviceFlags(off, "<filesystem/>", live),
	} {
		if libvirtCode(err) != libvirt.ErrOperationInvalid || !strings.Contains(err.Error(), "domain is not running") {
			t.Errorf("%s of a shut-off domain: %v, want OPERATION_INVALID 'domain is not running'", what, err)
		}
	}
	// The _FLAGS forms of network define and create take VALIDATE alone
	// (the backend's answer then), any other flag is INVALID_ARG.
	if _, err := l.NetworkCreateXMLFlags("<network/>", 2); libvirtCode(err) != libvirt.ErrInvalidArg || !strings.Contains(err.Error(), "NETWORK_CREATE_XML_FLAGS") {
		t.Errorf("net-create with an unknown flag: %v, want INVALID_ARG", err)
	}
	if _, err := l.NetworkCreateXMLFlags("<network/>", uint32(libvirt.NetworkCreateValidate)); libvirtCode(err) != libvirt.ErrInvalidArg || strings.Contains(err.Error(), "flags") {
		t.Errorf("net-create --validate: %v, want the backend's INVALID_ARG", err)
	}
	if _, err := l.NetworkDefineXMLFlags("<network/>", 4); libvirtCode(err) != libvirt.ErrInvalidArg || !strings.Contains(err.Error(), "NETWORK_DEFINE_XML_FLAGS") {
		t.Errorf("net-define with an unknown flag: %v, want INVALID_ARG", err)
	}
}
