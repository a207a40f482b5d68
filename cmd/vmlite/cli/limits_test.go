package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"vmlite/cgroup"
	"vmlite/internal/testutil"
	"vmlite/plan"
	"vmlite/service"
	"vmlite/state"
)

// fakeRunningGuest makes guest name look running under root: a held lock,
// a launch plan, and a real cgroup (removed at the end).
func fakeRunningGuest(t *testing.T, root string, l plan.Limits) (name string, m cgroup.Manager) {
	t.Helper()
	testutil.RequireRoot(t)
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	sfx := hex.EncodeToString(b)
	name = "g-" + sfx
	layout := state.NewLayout(root)
	if err := os.MkdirAll(layout.RunDir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	lock, err := state.TryLock(layout.LockFile(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	p := &plan.Plan{
		Version: plan.Version, Name: name,
		DomainXML: "<domain type='lxc'><name>" + name + "</name><memory unit='MiB'>256</memory></domain>",
		Cgroup:    plan.Cgroup{Partition: "/test-" + sfx, Name: name, Limits: l},
	}
	pj, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(layout.PlanFile(name), pj, 0o600); err != nil {
		t.Fatal(err)
	}
	mode, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	m, err = cgroup.New(cgroup.DefaultRoot, mode, p.Cgroup)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return name, m
}

func TestLiveLimitsCLI(t *testing.T) {
	root := t.TempDir()
	name, m := fakeRunningGuest(t, root, plan.Limits{MemoryBytes: 64 << 20})
	run := func(wantCode int, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, append([]string{"--root", root}, args...)...)
		if code != wantCode {
			t.Fatalf("vmlite %v: exit %d, want %d; stderr %s", args, code, wantCode, errOut)
		}
		return out + errOut
	}
	stats := func() cgroup.Stats {
		t.Helper()
		s, err := m.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	run(0, "setmem", name, "128M")
	if got := stats().MemoryLimit; got != 128<<20 {
		t.Errorf("after setmem 128M: limit %d", got)
	}
	run(0, "setmem", name, "98304") // KiB, as virsh
	if got := stats().MemoryLimit; got != 96<<20 {
		t.Errorf("after setmem 98304: limit %d", got)
	}
	if out := run(ExitUser, "setmem", name, "1G"); !strings.Contains(out, "maximum memory") {
		t.Errorf("setmem above <memory>: %s", out)
	}
	if out := run(0, "memtune", name); !strings.Contains(out, "hard_limit     : 98304\nsoft_limit     : unlimited\n") {
		t.Errorf("memtune shows:\n%s", out)
	}
	run(0, "memtune", name, "--soft-limit", "32M", "--swap-hard-limit", "-1")
	if out := run(0, "memtune", name); !strings.Contains(out, "soft_limit     : 32768\n") {
		t.Errorf("memtune after --soft-limit shows:\n%s", out)
	}
	if out := run(ExitUser, "memtune", name, "--swap-hard-limit", "32M"); !strings.Contains(out, "swap_hard_limit") {
		t.Errorf("swap below hard limit: %s", out)
	}

	out := run(0, "schedinfo", name, "--set", "vcpu_period=100000,vcpu_quota=50000", "--set", "shares=2048")
	if !strings.Contains(out, "cpu_shares     : 2048\nvcpu_period    : 100000\nvcpu_quota     : 50000\n") {
		t.Errorf("schedinfo prints:\n%s", out)
	}
	if f := m.Paths()["cpu"]; f != "" {
		if b, _ := os.ReadFile(f + "/cpu.cfs_quota_us"); strings.TrimSpace(string(b)) != "50000" {
			t.Errorf("cpu.cfs_quota_us = %q", b)
		}
	}
	run(ExitUser, "schedinfo", name, "--set", "bogus=1")

	// Both at once.
	s := defineGuest(t, root, name, "")
	run(0, "setmem", name, "160M", "--live", "--config")
	if got := stats().MemoryLimit; got != 160<<20 {
		t.Errorf("after setmem --live --config: live limit %d", got)
	}
	if d, err := s.Load(name); err != nil || d.XML.CurrentMemory == nil || d.XML.CurrentMemory.Value != 160<<10 {
		t.Errorf("after setmem --live --config: stored %v", err)
	}
	run(0, "setmem", name, "96M") // back, live only (it runs)
	if d, _ := s.Load(name); d.XML.CurrentMemory.Value != 160<<10 {
		t.Errorf("setmem of a running guest without --config changed the definition")
	}

	// What status will read back: the live limits, not the launch plan's.
	l, err := cgroup.LoadLive(state.NewLayout(root).RunDir(name), plan.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := plan.Limits{MemoryBytes: 96 << 20, MemorySoftBytes: 32 << 20, CPUShares: 2048, CPUPeriodUS: 100000, CPUQuotaUS: 50000}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("recorded live limits %+v, want %+v", l, want)
	}
}

func TestLiveLimitsUserErrors(t *testing.T) {
	root := t.TempDir()
	for _, args := range [][]string{
		{"setmem", "nosuch", "1G"},
		{"setmem", "nosuch", "lots"},
		{"setmem", "nosuch", "512k"},
		{"memtune", "nosuch"},
		{"schedinfo", "nosuch"},
		{"setmem", "onlyname"},
	} {
		_, errOut, code := runCLI(t, append([]string{"--root", root}, args...)...)
		if code != ExitUser {
			t.Errorf("vmlite %v: exit %d (%s), want 2", args, code, errOut)
		}
	}
}

// TestParseSchedSets: --set KEY=VALUE lists become the service's change;
// the values not named stay nil (unchanged).
func TestParseSchedSets(t *testing.T) {
	show := func(c service.SchedChange) string {
		var parts []string
		if c.Shares != nil {
			parts = append(parts, fmt.Sprintf("shares=%d", *c.Shares))
		}
		if c.PeriodUS != nil {
			parts = append(parts, fmt.Sprintf("period=%d", *c.PeriodUS))
		}
		if c.QuotaUS != nil {
			parts = append(parts, fmt.Sprintf("quota=%d", *c.QuotaUS))
		}
		return strings.Join(parts, " ")
	}
	tests := []struct {
		sets []string
		want string
		bad  bool
	}{
		{sets: []string{"cpu_shares=512"}, want: "shares=512"},
		{sets: []string{"period=50000, quota=25000"}, want: "period=50000 quota=25000"},
		{sets: []string{"vcpu_quota=-1"}, want: "quota=-1"},
		{sets: []string{"quota"}, bad: true},
		{sets: []string{"quota=x"}, bad: true},
		{sets: []string{"shares=-2"}, bad: true},
		{sets: []string{"emulator_period=1"}, bad: true},
	}
	for _, tc := range tests {
		got, err := parseSchedSets(tc.sets)
		if tc.bad {
			if err == nil {
				t.Errorf("parseSchedSets(%q) succeeded", tc.sets)
			}
			continue
		}
		if err != nil || show(got) != tc.want {
			t.Errorf("parseSchedSets(%q) = %s, %v; want %s", tc.sets, show(got), err, tc.want)
		}
	}
}
