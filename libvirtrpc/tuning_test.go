package libvirtrpc

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	xdr "github.com/davecgh/go-xdr/xdr2"
	libvirt "github.com/digitalocean/go-libvirt"

	"vmlite/plan"
	"vmlite/service"
)

func u64(v uint64) *uint64 { return &v }
func i64(v int64) *int64   { return &v }

// TestTypedParams: go-libvirt's client (its own XDR encoder of the typed
// parameter union) drives the memory, scheduler and blkio procedures:
// the values reach the backend as service changes with the call's affect
// flags, the replies carry libvirt's names, types and counts, and bad
// input gets libvirt's codes with a message naming the field.
func TestTypedParams(t *testing.T) {
	ts := startServer(t, 0)
	ts.fake.add("g", true)
	ts.fake.tuned.mem = service.Memory{Hard: 128 << 20}
	ts.fake.tuned.sched = service.Sched{Shares: 1024, PeriodUS: 100000, QuotaUS: -1}
	ts.fake.tuned.blkio = service.Blkio{Weight: 500, Devices: []plan.BlkioDevice{{Path: "/dev/vda", ReadBps: 1000, WriteIops: 7}}}
	l := dial(t, ts.rw)
	dom, err := l.DomainLookupByName("g")
	if err != nil {
		t.Fatal(err)
	}
	last := func() tuneCall {
		ts.fake.mu.Lock()
		defer ts.fake.mu.Unlock()
		return ts.fake.tuned.calls[len(ts.fake.tuned.calls)-1]
	}
	if yes, err := l.ConnectSupportsFeature(featureTypedParamString); err != nil || yes != 1 {
		t.Errorf("TYPED_PARAM_STRING = %d, %v", yes, err)
	}

	// Memory: the count first, as virsh asks it; then the values in KiB,
	// unlimited as libvirt's VIR_DOMAIN_MEMORY_PARAM_UNLIMITED.
	if ps, n, err := l.DomainGetMemoryParameters(dom, 0, 0); err != nil || n != 3 || len(ps) != 0 {
		t.Errorf("memory count: %v %d, %v", ps, n, err)
	}
	ps, _, err := l.DomainGetMemoryParameters(dom, 3, uint32(libvirt.DomainAffectConfig))
	want := []libvirt.TypedParam{ullongParam("hard_limit", 131072), ullongParam("soft_limit", memoryUnlimited), ullongParam("swap_hard_limit", memoryUnlimited)}
	if err != nil || !reflect.DeepEqual(ps, want) || last().affect != service.AffectConfig {
		t.Errorf("memory params: %+v, %v; call %+v", ps, err, last())
	}
	if err := l.DomainSetMemoryParameters(dom, []libvirt.TypedParam{ullongParam("hard_limit", 65536), ullongParam("swap_hard_limit", memoryUnlimited)},
		uint32(libvirt.DomainAffectLive|libvirt.DomainAffectConfig)); err != nil {
		t.Fatal(err)
	}
	wantMem := service.MemoryChange{Hard: u64(64 << 20), SwapHard: u64(0)}
	if c := last(); !reflect.DeepEqual(c.change, wantMem) || c.affect != service.AffectLive|service.AffectConfig {
		t.Errorf("memory set: %+v", c)
	}

	// Scheduler.
	if typ, n, err := l.DomainGetSchedulerType(dom); err != nil || typ != "posix" || n != 3 {
		t.Errorf("scheduler type %q %d, %v", typ, n, err)
	}
	ps, err = l.DomainGetSchedulerParameters(dom, 3)
	want = []libvirt.TypedParam{ullongParam("cpu_shares", 1024), ullongParam("vcpu_period", 100000), llongParam("vcpu_quota", -1)}
	if err != nil || !reflect.DeepEqual(ps, want) || last().affect != service.AffectCurrent {
		t.Errorf("scheduler params: %+v, %v", ps, err)
	}
	if ps, err := l.DomainGetSchedulerParametersFlags(dom, 1, uint32(libvirt.DomainAffectLive)); err != nil || len(ps) != 1 || ps[0].Field != "cpu_shares" {
		t.Errorf("scheduler params, nparams 1: %+v, %v", ps, err)
	}
	if err := l.DomainSetSchedulerParametersFlags(dom, []libvirt.TypedParam{llongParam("vcpu_quota", 50000), ullongParam("cpu_shares", 512)},
		uint32(libvirt.DomainAffectLive)); err != nil {
		t.Fatal(err)
	}
	if c := last(); !reflect.DeepEqual(c.change, service.SchedChange{Shares: u64(512), QuotaUS: i64(50000)}) || c.affect != service.AffectLive {
		t.Errorf("scheduler set: %+v", c)
	}
	if err := l.DomainSetSchedulerParameters(dom, []libvirt.TypedParam{ullongParam("vcpu_period", 20000)}); err != nil {
		t.Fatal(err)
	}
	if c := last(); !reflect.DeepEqual(c.change, service.SchedChange{PeriodUS: u64(20000)}) || c.affect != service.AffectCurrent {
		t.Errorf("scheduler set (58): %+v", c)
	}

	// Block I/O: strings only for a caller that reads them.
	if _, n, err := l.DomainGetBlkioParameters(dom, 0, 0); err != nil || n != 6 {
		t.Errorf("blkio count %d, %v", n, err)
	}
	ps, _, err = l.DomainGetBlkioParameters(dom, 6, uint32(libvirt.TypedParamStringOkay))
	want = []libvirt.TypedParam{uintParam("weight", 500), stringParam("device_weight", ""), stringParam("device_read_iops_sec", ""),
		stringParam("device_write_iops_sec", "/dev/vda,7"), stringParam("device_read_bytes_sec", "/dev/vda,1000"), stringParam("device_write_bytes_sec", "")}
	if err != nil || !reflect.DeepEqual(ps, want) {
		t.Errorf("blkio params: %+v, %v", ps, err)
	}
	if ps, _, err := l.DomainGetBlkioParameters(dom, 6, 0); err != nil || len(ps) != 1 || ps[0].Field != "weight" {
		t.Errorf("blkio params without STRING_OKAY: %+v, %v", ps, err)
	}
	if err := l.DomainSetBlkioParameters(dom, []libvirt.TypedParam{uintParam("weight", 300), stringParam("device_read_bytes_sec", "/dev/vda,2000,/dev/vdb,0"),
		stringParam("device_weight", "/dev/vda,200")}, uint32(libvirt.DomainAffectConfig)); err != nil {
		t.Fatal(err)
	}
	wantBlk := service.BlkioChange{Weight: u64(300), Devices: []service.BlkioDeviceChange{{Path: "/dev/vda", ReadBps: u64(2000), Weight: u64(200)}, {Path: "/dev/vdb", ReadBps: u64(0)}}}
	if c := last(); !reflect.DeepEqual(c.change, wantBlk) || c.affect != service.AffectConfig {
		t.Errorf("blkio set: %+v", c)
	}

	// Bad input: nothing reaches the backend.
	n := len(ts.fake.tuned.calls)
	for _, c := range []struct {
		what string
		err  error
		code libvirt.ErrorNumber
		msg  string
	}{
		{"unknown field", l.DomainSetMemoryParameters(dom, []libvirt.TypedParam{ullongParam("min_guarantee", 1)}, 0), libvirt.ErrArgumentUnsupported, "'min_guarantee' not supported"},
		{"wrong type", l.DomainSetSchedulerParametersFlags(dom, []libvirt.TypedParam{uintParam("cpu_shares", 1)}, 0), libvirt.ErrInvalidArg, "invalid type 'uint' for parameter 'cpu_shares', expected 'ullong'"},
		{"twice", l.DomainSetSchedulerParametersFlags(dom, []libvirt.TypedParam{ullongParam("cpu_shares", 2), ullongParam("cpu_shares", 3)}, 0), libvirt.ErrInvalidArg, "'cpu_shares' occurs multiple times"},
		{"zero hard limit", l.DomainSetMemoryParameters(dom, []libvirt.TypedParam{ullongParam("hard_limit", 0)}, 0), libvirt.ErrInvalidArg, "'hard_limit' of 0 KiB"},
		{"odd device list", l.DomainSetBlkioParameters(dom, []libvirt.TypedParam{stringParam("device_weight", "/dev/vda")}, 0), libvirt.ErrInvalidArg, "'device_weight'"},
		{"unknown flag", l.DomainSetMemoryParameters(dom, []libvirt.TypedParam{ullongParam("hard_limit", 1024)}, 8), libvirt.ErrInvalidArg, "unsupported flags (0x8)"},
	} {
		if libvirtCode(c.err) != c.code || c.err == nil || !strings.Contains(c.err.Error(), c.msg) {
			t.Errorf("%s: %v (code %d), want code %d and %q", c.what, c.err, libvirtCode(c.err), c.code, c.msg)
		}
	}
	if len(ts.fake.tuned.calls) != n {
		t.Errorf("refused calls reached the backend: %+v", ts.fake.tuned.calls[n:])
	}
	// An impossible value the service refuses names the fields sent.
	err = l.DomainSetSchedulerParametersFlags(dom, []libvirt.TypedParam{ullongParam("cpu_shares", 1)}, 0)
	if libvirtCode(err) != libvirt.ErrInvalidArg || err == nil || !strings.Contains(err.Error(), "cpu_shares=1") {
		t.Errorf("impossible value: %v (code %d)", err, libvirtCode(err))
	}
	// A read-only connection may read, not set.
	ro := dial(t, ts.ro)
	if _, _, err := ro.DomainGetMemoryParameters(dom, 3, 0); err != nil {
		t.Errorf("read-only get: %v", err)
	}
	if err := ro.DomainSetMemoryParameters(dom, []libvirt.TypedParam{ullongParam("hard_limit", 65536)}, 0); libvirtCode(err) != libvirt.ErrOperationDenied {
		t.Errorf("read-only set: %v", err)
	}
}

// FuzzDecodeTypedParams: the typed-parameter argument decoder returns an
// error or parameters it read from the body, never panics, and what it
// accepts encodes back to the same bytes.
func FuzzDecodeTypedParams(f *testing.F) {
	var b bytes.Buffer
	_, _ = xdr.Marshal(&b, &struct {
		Dom   libvirt.Domain
		N     uint32
		F     string
		T     uint32
		V     uint64
		Flags uint32
	}{libvirt.Domain{Name: "g"}, 1, "hard_limit", 4, 1024, 2})
	f.Add(b.Bytes(), true)
	f.Add([]byte{0, 0, 0, 1, 'g', 0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, body []byte, withFlags bool) {
		a, err := decodeTypedParamsArgs(body, withFlags)
		if err != nil {
			return
		}
		if len(a.Params) > maxTypedParams {
			t.Fatalf("%d params", len(a.Params))
		}
		for _, p := range a.Params {
			if len(p.Field) > maxFieldLen || p.Value.I == nil {
				t.Fatalf("param %+v", p)
			}
		}
	})
}
