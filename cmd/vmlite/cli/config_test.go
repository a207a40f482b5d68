package cli

import (
	"strings"
	"testing"

	"vmlite/domain"
	"vmlite/state"
)

// defineGuest stores a definition of name under root.
func defineGuest(t *testing.T, root, name, extra string) *domain.Store {
	t.Helper()
	xml := "<domain type='lxc'><name>" + name + "</name><memory unit='MiB'>512</memory>" + extra +
		"<os><type>exe</type><init>/bin/sh</init></os></domain>"
	d, _, err := domain.Parse("test.xml", []byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	s := domain.NewStore(state.NewLayout(root))
	if err := s.Save(d); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConfigLimitsCLI changes a stored definition of a guest that does not
// run: the default (--current) and --config both edit the XML.
func TestConfigLimitsCLI(t *testing.T) {
	root := t.TempDir()
	s := defineGuest(t, root, "web", "")
	run := func(wantCode int, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, append([]string{"--root", root}, args...)...)
		if code != wantCode {
			t.Fatalf("vmlite %v: exit %d, want %d; stderr %s", args, code, wantCode, errOut)
		}
		return out + errOut
	}
	load := func() *domain.Domain {
		t.Helper()
		d, err := s.Load("web")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	run(0, "setmem", "web", "256M")
	if c := load().XML.CurrentMemory; c == nil || c.Value != 256<<10 || c.Unit != "KiB" {
		t.Errorf("currentMemory after setmem: %+v", c)
	}
	if out := run(ExitUser, "setmem", "web", "1G", "--config"); !strings.Contains(out, "maximum memory") {
		t.Errorf("setmem above <memory>: %s", out)
	}

	run(0, "memtune", "web", "--config", "--hard-limit", "256M", "--soft-limit", "128M")
	if out := run(0, "memtune", "web"); out != "hard_limit     : 262144\nsoft_limit     : 131072\nswap_hard_limit: unlimited\n" {
		t.Errorf("memtune shows:\n%s", out)
	}
	// The XML rules apply to the edited definition: soft above hard.
	if out := run(ExitUser, "memtune", "web", "--soft-limit", "1G"); !strings.Contains(out, "soft_limit") {
		t.Errorf("soft above hard: %s", out)
	}
	run(0, "setmem", "web", "300M")
	if out := run(0, "setmem", "web", "200M"); !strings.Contains(out, "hard_limit") {
		t.Errorf("setmem --config under a hard_limit gives no warning: %q", out)
	}
	run(0, "memtune", "web", "--hard-limit", "-1", "--soft-limit", "unlimited")
	if mt := load().XML.MemoryTune; mt != nil {
		t.Errorf("memtune with every limit removed left %+v", mt)
	}

	out := run(0, "schedinfo", "web", "--set", "quota=50000,shares=512")
	if !strings.Contains(out, "cpu_shares     : 512\nvcpu_period    : 100000\nvcpu_quota     : 50000\n") {
		t.Errorf("schedinfo prints:\n%s", out)
	}
	if ct := load().XML.CPUTune; ct == nil || ct.Quota == nil || ct.Quota.Value != 50000 || ct.Shares.Value != 512 || ct.Period != nil {
		t.Errorf("stored cputune %+v", ct)
	}
	run(0, "schedinfo", "web", "--config", "--set", "vcpu_quota=-1,cpu_shares=0")
	if ct := load().XML.CPUTune; ct != nil {
		t.Errorf("cputune with every value at its default left %+v", ct)
	}

	for _, args := range [][]string{
		{"setmem", "web", "1G", "--live"}, // does not run
		{"memtune", "web", "--live"},      // does not run
		{"setmem", "web", "1G", "--current", "--config"},
		{"setmem", "nosuch", "1G"}, // neither runs nor defined
		{"schedinfo", "nosuch", "--config"},
	} {
		run(ExitUser, args...)
	}
}
