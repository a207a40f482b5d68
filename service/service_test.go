package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor/client"
)

// recorder is an Events sink that keeps what it hears.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parts []string
	for _, e := range r.events {
		parts = append(parts, fmt.Sprintf("%s %s %s", e.Name, e.Type, e.Detail))
	}
	return strings.Join(parts, "; ")
}

// fakeSupervisor stands in for client.Launch: it takes the guest's
// lock as a supervisor does, records a running state with init pid
// 4242+n and, when hold is set, waits on it first. Release drops every
// lock it holds (the guests "stop").
type fakeSupervisor struct {
	t     *testing.T
	l     state.Layout
	hold  chan struct{}
	mu    sync.Mutex
	calls int
	locks []*os.File
}

func (f *fakeSupervisor) launch(p *plan.Plan, b json.RawMessage, lock *os.File, _ client.LaunchOptions) (plan.StartResult, error) {
	f.mu.Lock()
	f.calls++
	pid := 4242 + f.calls
	f.locks = append(f.locks, lock)
	f.mu.Unlock()
	if f.hold != nil {
		<-f.hold
	}
	if err := state.WriteRuntimeFile(p.Paths.PlanFile, b, 0o600); err != nil {
		return plan.StartResult{}, err
	}
	st := &state.State{Name: p.Name, UUID: p.UUID, Status: state.Running, InitPID: pid, StartedAt: time.Now()}
	if err := state.Write(p.Paths.StateFile, st); err != nil {
		return plan.StartResult{}, err
	}
	return plan.StartResult{OK: true, InitPID: pid}, nil
}

func (f *fakeSupervisor) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.locks {
		l.Close()
	}
	f.locks = nil
}

// newTest is a Service on a fresh layout with a fake supervisor, and a
// domain XML for guest name whose root is a real (empty) directory.
func newTest(t *testing.T) (*Service, *fakeSupervisor, *recorder, func(name, uuid string) []byte) {
	t.Helper()
	l := state.NewLayout(t.TempDir())
	rec := &recorder{}
	s := New(Options{Layout: l, GuestsPerSupervisor: 1, Events: rec})
	fs := &fakeSupervisor{t: t, l: l}
	s.launch = fs.launch
	t.Cleanup(fs.release)
	root := t.TempDir()
	xml := func(name, uuid string) []byte {
		u := ""
		if uuid != "" {
			u = "<uuid>" + uuid + "</uuid>"
		}
		return []byte(`<domain type='lxc'><name>` + name + `</name>` + u + `<memory>65536</memory>
  <os><type>exe</type><init>/sbin/init</init></os>
  <devices><filesystem type='mount'><source dir='` + root + `'/><target dir='/'/></filesystem></devices>
</domain>`)
	}
	return s, fs, rec, xml
}

// TestStartRace: two front ends (two Services, as the CLI and the RPC
// server are) starting one guest at once: exactly one wins, the other is
// refused as OperationInvalid (already running), and only one guest
// reaches a supervisor.
func TestStartRace(t *testing.T) {
	cli, fake, _, xml := newTest(t)
	ctx := context.Background()
	if _, err := cli.Define(ctx, "g.xml", xml("g", "")); err != nil {
		t.Fatal(err)
	}
	rpc := New(Options{Layout: cli.Layout(), GuestsPerSupervisor: 1})
	rpc.launch = fake.launch
	fake.hold = make(chan struct{})

	type result struct {
		who string
		res *Started
		err error
	}
	results := make(chan result, 2)
	for who, s := range map[string]*Service{"cli": cli, "rpc": rpc} {
		go func() {
			res, err := s.Start(ctx, "g")
			results <- result{who, res, err}
		}()
	}
	// The first to get the lock waits in the (fake) supervisor; the other
	// comes back refused meanwhile.
	lost := <-results
	close(fake.hold)
	won := <-results
	if won.err != nil {
		t.Fatalf("%s: %v", won.who, won.err)
	}
	if lost.err == nil || CodeOf(lost.err) != OperationInvalid || !errors.Is(lost.err, errdefs.ErrAlreadyRunning) {
		t.Errorf("%s: %v (code %v), want OperationInvalid wrapping ErrAlreadyRunning", lost.who, lost.err, CodeOf(lost.err))
	}
	if fake.calls != 1 {
		t.Errorf("%d launches, want 1", fake.calls)
	}
	// And once the guest runs, a third start is refused the same way.
	if _, err := rpc.Start(ctx, "g"); CodeOf(err) != OperationInvalid {
		t.Errorf("start of a running guest: %v", err)
	}
}

// TestLookups: a running guest is found by name, uuid (any spelling) and
// id; a stopped one has id 0; misses are NoDomain.
func TestLookups(t *testing.T) {
	s, _, _, xml := newTest(t)
	ctx := context.Background()
	const u = "8369f1ac-7e46-e869-4ca5-759d51478066"
	if _, err := s.Define(ctx, "a.xml", xml("a", u)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Define(ctx, "b.xml", xml("b", "")); err != nil {
		t.Fatal(err)
	}
	started, err := s.Start(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if started.ID <= 0 || started.UUID != u {
		t.Fatalf("started %+v", started)
	}
	d, err := s.Lookup(ctx, "a")
	if err != nil || d.ID != started.ID || d.State != state.Running || !d.Active() || !d.Persistent {
		t.Errorf("Lookup a: %+v, %v", d, err)
	}
	if d, err := s.LookupByUUID(ctx, strings.ToUpper(strings.ReplaceAll(u, "-", ""))); err != nil || d.Name != "a" {
		t.Errorf("LookupByUUID: %+v, %v", d, err)
	}
	if d, err := s.LookupByID(ctx, started.ID); err != nil || d.Name != "a" {
		t.Errorf("LookupByID: %+v, %v", d, err)
	}
	b, err := s.Lookup(ctx, "b")
	if err != nil || b.ID != 0 || b.State != state.Shutoff || b.UUID == "" {
		t.Errorf("Lookup b: %+v, %v", b, err)
	}
	rows, err := s.List(ctx, ListOptions{})
	if err != nil || len(rows) != 1 || rows[0].Name != "a" {
		t.Errorf("List: %+v, %v", rows, err)
	}
	if rows, _ := s.List(ctx, ListOptions{All: true}); len(rows) != 2 {
		t.Errorf("List --all: %+v", rows)
	}
	for name, err := range map[string]error{
		"Lookup":       second(s.Lookup(ctx, "nosuch")),
		"LookupByUUID": second(s.LookupByUUID(ctx, "11111111-2222-4333-8444-555555555555")),
		"LookupByID":   second(s.LookupByID(ctx, 1)),
	} {
		if CodeOf(err) != NoDomain || !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("%s miss: %v (code %v), want NoDomain", name, err, CodeOf(err))
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestInfo: dominfo's fields from the stored definition of a stopped guest
// and from the live one of a running guest.
func TestInfo(t *testing.T) {
	s, _, _, xml := newTest(t)
	ctx := context.Background()
	const u = "8369f1ac-7e46-e869-4ca5-759d51478066"
	b := strings.Replace(string(xml("a", u)), "<memory>65536</memory>", "<memory unit='MiB'>64</memory><currentMemory>32768</currentMemory><vcpu>2</vcpu>", 1)
	if _, err := s.Define(ctx, "a.xml", []byte(b)); err != nil {
		t.Fatal(err)
	}
	in, err := s.Info(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "a" || in.UUID != u || in.ID != 0 || in.State != state.Shutoff || !in.Persistent || in.Autostart ||
		in.VCPUs != 2 || in.MaxMemKiB != 65536 || in.MemoryKiB != 32768 || in.Stats {
		t.Errorf("stopped: %+v", in)
	}
	started, err := s.Start(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	in, err = s.Info(ctx, "a")
	if err != nil || in.ID != started.ID || in.State != state.Running || in.MaxMemKiB != 65536 || in.VCPUs != 2 {
		t.Errorf("running: %+v, %v", in, err)
	}
	// No <memory>: no limit, reported as 0.
	if _, err := s.Define(ctx, "b.xml", []byte(strings.Replace(string(xml("b", "")), "<memory>65536</memory>", "", 1))); err != nil {
		t.Fatal(err)
	}
	if in, err := s.Info(ctx, "b"); err != nil || in.MaxMemKiB != 0 || in.MemoryKiB != 0 || in.VCPUs != 1 {
		t.Errorf("no <memory>: %+v, %v", in, err)
	}
}

// TestLookupRedefinedUUID: a stopped guest defined again under a new uuid
// is found with the new one, not its last run's (Terraform's provider
// undefines and defines a guest, then looks it up by the new uuid).
func TestLookupRedefinedUUID(t *testing.T) {
	s, _, _, xml := newTest(t)
	ctx := context.Background()
	const old, cur = "8369f1ac-7e46-e869-4ca5-759d51478066", "0e4fd1d2-2bd1-4cd2-9a5e-3a0d6c1a0c51"
	if _, err := s.Define(ctx, "a.xml", xml("a", cur)); err != nil {
		t.Fatal(err)
	}
	last := &state.State{Name: "a", UUID: old, Status: state.Shutoff, Reason: state.ReasonShutdown, StoppedAt: time.Now()}
	if err := os.MkdirAll(s.layout.Lib+"/last", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := state.Write(s.layout.LastFile("a"), last); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Lookup(ctx, "a"); err != nil || d.UUID != cur || d.Reason != state.ReasonShutdown {
		t.Errorf("Lookup: %+v, %v; want uuid %s and the last run's reason", d, err, cur)
	}
	if d, err := s.LookupByUUID(ctx, cur); err != nil || d.Name != "a" {
		t.Errorf("LookupByUUID(new): %+v, %v", d, err)
	}
}

// TestErrorCodes: every class of failure comes back with the code a
// libvirt client expects, and nothing changed.
func TestErrorCodes(t *testing.T) {
	s, fake, _, xml := newTest(t)
	ctx := context.Background()
	const u = "11111111-2222-4333-8444-555555555555"
	if _, err := s.Define(ctx, "a.xml", xml("a", u)); err != nil {
		t.Fatal(err)
	}
	bad := []byte(`<domain type='lxc'><name>x</name><memory>lots</memory></domain>`)
	disk := []byte("<disk type='block'><source dev='/dev/sdb'/><target dev='vdb'/></disk>")
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name string
		err  error
		want Code
	}{
		{"define invalid XML", second(s.Define(ctx, "bad.xml", bad)), XMLError},
		{"define a taken uuid", second(s.Define(ctx, "b.xml", xml("b", u))), AlreadyExists},
		{"create a transient twin with another uuid", second(s.Create(ctx, "a2.xml", xml("a", "22222222-2222-4333-8444-555555555555"))), AlreadyExists},
		{"start an undefined guest", second(s.Start(ctx, "nosuch")), NoDomain},
		{"start a bad name", second(s.Start(ctx, "../x")), InvalidArg},
		{"shutdown a stopped guest", second(s.Shutdown(ctx, "a", 0)), OperationInvalid},
		{"destroy an unknown guest", second(s.Destroy(ctx, "nosuch")), NoDomain},
		{"reboot a stopped guest", second(s.Reboot(ctx, "a", 0)), OperationInvalid},
		{"undefine an unknown guest", second(s.Undefine(ctx, "nosuch", UndefineOptions{})), NoDomain},
		{"setmem below 1 MiB", second(s.SetMemory(ctx, "a", 4096, AffectConfig)), InvalidArg},
		{"setmem live on a stopped guest", second(s.SetMemory(ctx, "a", 64<<20, AffectLive)), OperationInvalid},
		{"unknown affect flags", second(s.SetMemory(ctx, "a", 64<<20, 4)), InvalidArg},
		{"lookup by id 0", second(s.LookupByID(ctx, 0)), InvalidArg},
		{"dumpxml of an unknown guest", second(s.DumpXML(ctx, "nosuch", false)), NoDomain},
		{"addresses of a stopped guest", second(s.InterfaceAddresses(ctx, "a", "")), OperationInvalid},
		{"unknown network", second(s.LookupNetwork(ctx, "nosuch")), NoNetwork},
		{"start an unknown network", s.StartNetwork(ctx, "nosuch"), NoNetwork},
		{"canceled", second(s.Start(canceled, "a")), Canceled},
		{"info of an unknown guest", second(s.Info(ctx, "nosuch")), NoDomain},
		{"send-signal to a stopped guest", s.SendSignal(ctx, "a", 1, unix.SIGTERM), OperationInvalid},
		{"send-signal to pid 0", s.SendSignal(ctx, "a", 0, unix.SIGTERM), InvalidArg},
		{"send-signal of signal 65", s.SendSignal(ctx, "a", 1, 65), InvalidArg},
		{"send-signal to an unknown guest", s.SendSignal(ctx, "nosuch", 1, unix.SIGTERM), NoDomain},
		{"attach-device to an unknown guest", second(s.AttachDevice(ctx, "nosuch", "d.xml", disk, AffectConfig)), NoDomain},
		{"attach-device of bad XML", second(s.AttachDevice(ctx, "a", "d.xml", []byte("<disk type='nope'/>"), AffectConfig)), XMLError},
		{"attach-device live to a stopped guest", second(s.AttachDevice(ctx, "a", "d.xml", disk, AffectLive)), OperationInvalid},
		{"detach-device of a disk not there", second(s.DetachDevice(ctx, "a", "d.xml", disk, AffectConfig)), InvalidArg},
		{"update-device of a disk", second(s.UpdateDevice(ctx, "a", "d.xml", disk, AffectConfig)), InvalidArg},
		{"attach-device with unknown flags", second(s.AttachDevice(ctx, "a", "d.xml", disk, 8)), InvalidArg},
	} {
		if tc.err == nil || CodeOf(tc.err) != tc.want {
			t.Errorf("%s: %v (code %v), want %v", tc.name, tc.err, CodeOf(tc.err), tc.want)
		}
	}
	var xe domain.Errors
	if err := second(s.Define(ctx, "bad.xml", bad)); !errors.As(err, &xe) || !strings.Contains(err.Error(), "bad.xml") {
		t.Errorf("XML error %v: want domain.Errors naming the file", err)
	}
	if _, err := s.Start(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Undefine(ctx, "a", UndefineOptions{}); CodeOf(err) != OperationInvalid {
		t.Errorf("undefine a running guest: %v, want OperationInvalid", err)
	}
	if fake.calls != 1 {
		t.Errorf("%d launches, want 1 (a refused call launched a guest)", fake.calls)
	}
	if _, err := s.Create(ctx, "t.xml", xml("t", "")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AttachDevice(ctx, "t", "d.xml", disk, AffectConfig); CodeOf(err) != OperationInvalid || !strings.Contains(err.Error(), "transient") {
		t.Errorf("attach-device --config to a transient guest: %v (code %v)", err, CodeOf(err))
	}
}

// TestEvents: the sink hears of each change, after it is made, with
// libvirt's type and detail; reads are silent.
func TestEvents(t *testing.T) {
	s, fake, rec, xml := newTest(t)
	ctx := context.Background()
	if _, err := s.Define(ctx, "g.xml", xml("g", "")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Define(ctx, "g.xml", xml("g", "")); err != nil {
		t.Fatal(err)
	}
	res, err := s.Start(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.List(ctx, ListOptions{All: true})
	_, _ = s.Lookup(ctx, "g")
	fake.release() // the guest "stops"
	if err := os.RemoveAll(s.Layout().RunDir("g")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Undefine(ctx, "g", UndefineOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.String(), "g defined added; g defined updated; g started booted; g undefined removed"; got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if e := rec.events[2]; e.ID != res.ID || e.UUID == "" || e.Network {
		t.Errorf("started event %+v, want id %d and the uuid", e, res.ID)
	}
}
