package launch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"vmlite/domain"
	"vmlite/guestnet"
	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// hostOf is a fake Probe: every path is a directory of mode 0755 except
// those in perms.
type hostOf struct{ perms map[string]fs.FileMode }

func (hostOf) IsDir(string) bool                     { return true }
func (hostOf) IsFile(string) bool                    { return true }
func (hostOf) InitKind(string, string) plan.InitKind { return plan.InitBusybox }
func (h hostOf) Perm(p string) (fs.FileMode, bool) {
	if m, ok := h.perms[p]; ok {
		return m, true
	}
	return 0o755, true
}

// nets is a fake NetworkResolver: network "nat" hands out 10.9.0.(10+i)/24
// to the i-th interface asking for an address (counted in asked), with
// gateway 10.9.0.1, "plain" only a bridge, "down" is not running.
type nets struct{ asked *[]string }

func (n nets) ResolveNetwork(network, uuid string, mac plan.MAC, want bool) (string, netip.Prefix, netip.Addr, error) {
	if n.asked != nil {
		*n.asked = append(*n.asked, fmt.Sprintf("%s %s %v", network, mac, want))
	}
	none, noGW := netip.Prefix{}, netip.Addr{}
	switch network {
	case "nat":
		if !want {
			return "br-nat", none, noGW, nil
		}
		i := 0
		if n.asked != nil {
			i = strings.Count(strings.Join(*n.asked, ";"), " true") - 1
		}
		return "br-nat", netip.MustParsePrefix("10.9.0." + fmt.Sprint(10+i) + "/24"), netip.MustParseAddr("10.9.0.1"), nil
	case "plain":
		return "br-plain", none, noGW, nil
	case "down":
		return "", none, noGW, fmt.Errorf("network %q is not active: %w", network, errdefs.ErrNotRunning)
	}
	return "", none, noGW, fmt.Errorf("network %q is not defined: %w", network, errdefs.ErrNotFound)
}

func parse(t *testing.T, name, uuid, extra, devices string) *domain.Domain {
	t.Helper()
	u := ""
	if uuid != "" {
		u = "<uuid>" + uuid + "</uuid>"
	}
	doc := `<domain type='lxc'><name>` + name + `</name>` + u + `<memory>65536</memory>` + extra + `
  <os><type>exe</type><init>/sbin/init</init></os>
  <devices>
    <filesystem type='mount'><source dir='/srv/g'/><target dir='/'/></filesystem>` + devices + `
  </devices>
</domain>`
	d, _, err := domain.Parse(name+".xml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func opts(l state.Layout) Options {
	return Options{Layout: l, Probe: hostOf{}, Networks: nets{}}
}

// TestPrepare: what a successful Prepare holds and leaves, and that
// Release undoes it.
func TestPrepare(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	prep, err := Prepare(parse(t, "g", "", "", ""), opts(l))
	if err != nil {
		t.Fatal(err)
	}
	var decoded plan.Plan
	if err := json.Unmarshal(prep.JSON, &decoded); err != nil || !reflect.DeepEqual(&decoded, prep.Plan) {
		t.Errorf("JSON is not the plan: %v\n%+v\n%+v", err, decoded, *prep.Plan)
	}
	if held, _ := state.Held(l.LockFile("g")); !held {
		t.Errorf("the guest's lock is not held")
	}
	if _, err := Prepare(parse(t, "g", "", "", ""), opts(l)); !errors.Is(err, errdefs.ErrAlreadyRunning) {
		t.Errorf("second Prepare of a held guest: %v, want ErrAlreadyRunning", err)
	}
	// Without a map, no plan.json yet: the supervisor writes it.
	if _, err := os.Stat(l.PlanFile("g")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("plan.json of an unmapped guest: %v", err)
	}
	prep.Release()
	prep.Release()
	if _, err := os.Stat(l.RunDir("g")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Release left the runtime directory: %v", err)
	}
	again, err := Prepare(parse(t, "g", "", "", ""), opts(l))
	if err != nil {
		t.Fatalf("Prepare after Release: %v", err)
	}
	again.Launched()
	again.Release() // a no-op: the supervisor has the lock
	if _, err := os.Stat(l.RunDir("g")); err != nil {
		t.Errorf("Release after Launched removed the runtime directory: %v", err)
	}
}

const idmap = `<idmap><uid start='0' target='200000' count='65536'/><gid start='0' target='200000' count='65536'/></idmap>`

// TestPrepareFailures: each refusal names the fault, wraps the right
// class and leaves nothing (no runtime directory, no lock).
func TestPrepareFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, l state.Layout, o *Options)
		extra   string
		devices string
		want    error
		msg     string
	}{
		{name: "untraversable root", extra: idmap,
			setup: func(t *testing.T, l state.Layout, o *Options) {
				o.Probe = hostOf{perms: map[string]fs.FileMode{l.GuestsRunDir(): 0o700}}
			},
			want: errdefs.ErrInvalid, msg: "not traversable by the guest's mapped root"},
		{name: "network not running", devices: `<interface type='network'><source network='down'/></interface>`,
			want: errdefs.ErrNotRunning, msg: "interface /domain/devices/interface"},
		{name: "unknown network", devices: `<interface type='network'><source network='nope'/></interface>`,
			want: errdefs.ErrNotFound, msg: `network "nope" is not defined`},
		{name: "no resolver", devices: `<interface type='network'><source network='nat'/></interface>`,
			setup: func(t *testing.T, l state.Layout, o *Options) { o.Networks = nil },
			want:  errdefs.ErrNotFound, msg: "no managed networks"},
		{name: "idmap overlaps a running guest", extra: idmap,
			setup: func(t *testing.T, l state.Layout, o *Options) {
				other, err := Prepare(parse(t, "other", "", idmap, ""), *o)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(other.Release)
			},
			want: errdefs.ErrInvalid, msg: `also mapped by running guest "other"`},
		{name: "transient name of a defined guest with another uuid",
			setup: func(t *testing.T, l state.Layout, o *Options) {
				o.Transient = true
				define(t, l, "g", "11111111-2222-4333-8444-555555555555")
			},
			want: errdefs.ErrAlreadyExists, msg: "already defined with uuid"},
		{name: "transient with the uuid of another defined guest",
			setup: func(t *testing.T, l state.Layout, o *Options) {
				o.Transient = true
				define(t, l, "other", "99999999-2222-4333-8444-555555555555")
			},
			want: errdefs.ErrAlreadyExists, msg: `belongs to defined guest "other"`},
		{name: "transient with the uuid of a running guest",
			setup: func(t *testing.T, l state.Layout, o *Options) {
				o.Transient = true
				run := *o
				run.Transient = false
				other, err := Prepare(parse(t, "other", "99999999-2222-4333-8444-555555555555", "", ""), run)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(other.Release)
				// What its supervisor records once it runs.
				if err := os.WriteFile(l.PlanFile("other"), other.JSON, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: errdefs.ErrAlreadyExists, msg: `belongs to running guest "other"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := state.NewLayout(t.TempDir())
			o := opts(l)
			if tc.setup != nil {
				tc.setup(t, l, &o)
			}
			uuid := ""
			if o.Transient {
				uuid = "99999999-2222-4333-8444-555555555555"
			}
			prep, err := Prepare(parse(t, "g", uuid, tc.extra, tc.devices), o)
			if err == nil {
				prep.Release()
				t.Fatalf("Prepare succeeded, want %v", tc.want)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Prepare: %v, want %v containing %q", err, tc.want, tc.msg)
			}
			if _, serr := os.Stat(l.RunDir("g")); !errors.Is(serr, fs.ErrNotExist) {
				t.Errorf("a refused Prepare left the runtime directory: %v", serr)
			}
		})
	}
}

func define(t *testing.T, l state.Layout, name, uuid string) {
	t.Helper()
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	doc := `<domain type='lxc'><name>` + name + `</name><uuid>` + uuid + `</uuid><memory>65536</memory><os><type>exe</type><init>/sbin/init</init></os></domain>`
	if err := os.WriteFile(l.DomainFile(name), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPrepareTransientAdoptsUUID: a transient guest without a UUID takes
// the defined guest's, and the caller's domain is not changed.
func TestPrepareTransientAdoptsUUID(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	const u = "11111111-2222-4333-8444-555555555555"
	define(t, l, "g", u)
	d := parse(t, "g", "", "", "")
	o := opts(l)
	o.Transient = true
	prep, err := Prepare(d, o)
	if err != nil {
		t.Fatal(err)
	}
	defer prep.Release()
	if prep.Plan.UUID != u || !prep.Plan.Transient {
		t.Errorf("plan uuid %q transient %v, want %s", prep.Plan.UUID, prep.Plan.Transient, u)
	}
	if d.XML.UUID != "" {
		t.Errorf("Prepare changed the caller's domain: uuid %q", d.XML.UUID)
	}
}

// TestPrepareNetworks: managed-network interfaces get their bridge, an
// address only when the XML gives none, and one default route for the
// guest; the mapped guest's plan is recorded for the idmap check.
func TestPrepareNetworks(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	var asked []string
	o := opts(l)
	o.Networks = nets{asked: &asked}
	devs := `<interface type='network'><source network='nat'/></interface>
    <interface type='network'><source network='nat'/></interface>
    <interface type='network'><source network='nat'/><ip address='10.9.0.99' prefix='24'/></interface>
    <interface type='network'><source network='plain'/></interface>
    <interface type='bridge'><source bridge='br0'/></interface>`
	prep, err := Prepare(parse(t, "g", "", idmap, devs), o)
	if err != nil {
		t.Fatal(err)
	}
	defer prep.Release()
	in := prep.Plan.Interfaces
	want := []struct {
		bridge, ip string
		up         bool
		routes     int
	}{
		{"br-nat", "10.9.0.10/24", true, 1},
		{"br-nat", "10.9.0.11/24", true, 0},
		{"br-nat", "10.9.0.99/24", true, 0},
		{"br-plain", "", false, 0},
		{"br0", "", false, 0},
	}
	for i, w := range want {
		var ips []string
		for _, p := range in[i].IPs {
			ips = append(ips, p.String())
		}
		ip := strings.Join(ips, ",")
		if in[i].Bridge != w.bridge || ip != w.ip || in[i].Up() != w.up || len(in[i].Routes) != w.routes {
			t.Errorf("interface %d: bridge %q ips %q up %v routes %v, want %+v", i, in[i].Bridge, ip, in[i].Up(), in[i].Routes, w)
		}
	}
	if len(in[0].Routes) == 1 && (in[0].Routes[0].Gateway.String() != "10.9.0.1" || in[0].Routes[0].Dest.IsValid()) {
		t.Errorf("default route %+v", in[0].Routes[0])
	}
	mac := func(i int) string { return guestnet.GuestMAC(prep.Plan.UUID, i) }
	if got, want := strings.Join(asked, "; "), fmt.Sprintf("nat %s true; nat %s true; nat %s false; plain %s true", mac(0), mac(1), mac(2), mac(3)); got != want {
		t.Errorf("resolver asked %s, want %s", got, want)
	}
	b, err := os.ReadFile(l.PlanFile("g"))
	if err != nil || string(b) != string(prep.JSON) {
		t.Errorf("plan.json of a mapped guest: %v, want the prepared JSON", err)
	}
}

// TestPrepareCleansOrphan: the state of a dead supervisor whose guest is
// gone is removed before the lock is handed on.
func TestPrepareCleansOrphan(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(l.RunDir("g"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := state.Write(l.StateFile("g"), &state.State{Name: "g"}); err != nil {
		t.Fatal(err)
	}
	prep, err := Prepare(parse(t, "g", "", "", ""), opts(l))
	if err != nil {
		t.Fatal(err)
	}
	defer prep.Release()
	if _, err := os.Stat(l.StateFile("g")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale state.json kept: %v", err)
	}
}

// fakeOrphans records the clean-ups asked of it.
type fakeOrphans struct {
	alive   bool
	cleaned []string
}

func (f *fakeOrphans) Alive(p *plan.Plan, st *state.State) bool { return f.alive }

func (f *fakeOrphans) Cleanup(p *plan.Plan, st *state.State) error {
	f.cleaned = append(f.cleaned, p.Name)
	return nil
}

// TestPrepareOrphanHook: a dead supervisor's plan and state go to
// Options.Orphans (the supervisor's clean-up, which launch does not link);
// a guest that still runs is refused; without Orphans the start fails
// with ErrOrphan and changes nothing, so that the front binary can leave
// such a start to the full CLI.
func TestPrepareOrphanHook(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	stale := func() {
		t.Helper()
		if err := os.MkdirAll(l.RunDir("g"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := state.Write(l.StateFile("g"), &state.State{Name: "g", InitPID: 1}); err != nil {
			t.Fatal(err)
		}
		b, err := (&plan.Plan{Version: plan.Version, Name: "g"}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.PlanFile("g"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stale()
	o := opts(l)
	if _, err := Prepare(parse(t, "g", "", "", ""), o); !errors.Is(err, ErrOrphan) {
		t.Fatalf("Prepare without Orphans = %v, want ErrOrphan", err)
	}
	if _, err := os.Stat(l.StateFile("g")); err != nil {
		t.Errorf("state.json gone after a refused start: %v", err)
	}
	if held, _ := state.Held(l.LockFile("g")); held {
		t.Error("the guest's lock is still held")
	}
	o.Orphans = &fakeOrphans{alive: true}
	if _, err := Prepare(parse(t, "g", "", "", ""), o); !errors.Is(err, errdefs.ErrAlreadyRunning) {
		t.Fatalf("Prepare with a live orphan = %v, want ErrAlreadyRunning", err)
	}
	f := &fakeOrphans{}
	o.Orphans = f
	prep, err := Prepare(parse(t, "g", "", "", ""), o)
	if err != nil {
		t.Fatal(err)
	}
	defer prep.Release()
	if len(f.cleaned) != 1 || f.cleaned[0] != "g" {
		t.Errorf("clean-ups %v, want [g]", f.cleaned)
	}
	if _, err := os.Stat(l.StateFile("g")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale state.json kept: %v", err)
	}
}
