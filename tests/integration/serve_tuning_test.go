//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// cgroupV1File reads file of controller in a running guest's cgroup (this
// host is cgroup v1); "" when the kernel has no such file.
func cgroupV1File(t *testing.T, rel, controller, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", controller, rel, file))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// blkioWeightFile is the v1 weight file of the guest cgroup rel ("" on a
// host without one).
func blkioWeightFile(rel string) string {
	for _, f := range []string{"blkio.weight", "blkio.bfq.weight"} {
		p := filepath.Join("/sys/fs/cgroup/blkio", rel, f)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// hostBlockDev is a block device of this host and its MAJ:MIN, for the
// device limits.
func hostBlockDev(t *testing.T) (path, num string) {
	t.Helper()
	ents, _ := os.ReadDir("/sys/block")
	for _, e := range ents {
		p := "/dev/" + e.Name()
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
			return p, fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
	}
	t.Fatal("no block device under /sys/block")
	return "", ""
}

// TestServeTuning: the real virsh memtune, schedinfo and blkiotune
// through vmlite serve change a running guest's cgroup files (--live) and
// its stored definition (--config, seen in dumpxml --inactive) without
// touching the other; impossible values get libvirt's INVALID_ARG with
// the field named, and change nothing. libvirt-python's
// memoryParameters, schedulerParameters and blkioParameters (and their
// setters) do the same.
func TestServeTuning(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("it-rpctune")
	xml, _ := h.busybox(name, false)
	h.must("define", xml)
	h.must("start", name)
	t.Cleanup(func() { h.run("destroy", name); h.run("undefine", name) })
	rel := h.status(name).Cgroup
	if _, err := os.Stat("/sys/fs/cgroup/memory/" + rel); err != nil {
		t.Fatalf("guest cgroup %s: %v (this test reads the cgroup v1 files of the host)", rel, err)
	}
	dev, num := hostBlockDev(t)
	file := func(controller, f string) string { return cgroupV1File(t, rel, controller, f) }
	weight := func() string {
		if w := file("blkio", "blkio.weight"); w != "" {
			return w
		}
		return file("blkio", "blkio.bfq.weight")
	}

	// --live: the cgroup changes, virsh prints the new values.
	if r := d.mustVirsh("memtune", name, "--hard-limit", "200000", "--live"); r.code != 0 {
		t.Fatal(r)
	}
	if got := file("memory", "memory.limit_in_bytes"); got != "204800000" {
		t.Errorf("memory.limit_in_bytes after memtune --live: %q, want 204800000", got)
	}
	if r := d.mustVirsh("memtune", name); !strings.Contains(r.stdout, "hard_limit     : 200000") || !strings.Contains(r.stdout, "soft_limit     : unlimited") {
		t.Errorf("virsh memtune:\n%s", r.stdout)
	}
	r := d.mustVirsh("schedinfo", name, "--set", "cpu_shares=512", "--live")
	if !strings.Contains(r.stdout, "cpu_shares     : 512") || !strings.Contains(r.stdout, "Scheduler      : posix") {
		t.Errorf("virsh schedinfo --set:\n%s", r.stdout)
	}
	if got := file("cpu", "cpu.shares"); got != "512" {
		t.Errorf("cpu.shares after schedinfo --live: %q", got)
	}
	d.mustVirsh("schedinfo", name, "--set", "vcpu_quota=50000", "--live")
	if got := file("cpu", "cpu.cfs_quota_us"); got != "50000" {
		t.Errorf("cpu.cfs_quota_us after schedinfo --live: %q", got)
	}
	d.mustVirsh("blkiotune", name, "--weight", "300", "--device-read-bytes-sec", dev+",1048576", "--live")
	if w := weight(); w != "" && w != "300" && !strings.Contains(w, " 300") {
		t.Errorf("blkio weight after blkiotune --live: %q", w)
	}
	if got := file("blkio", "blkio.throttle.read_bps_device"); !strings.Contains(got, num+" 1048576") {
		t.Errorf("blkio.throttle.read_bps_device after blkiotune --live: %q, want %s 1048576", got, num)
	}
	if r := d.mustVirsh("blkiotune", name); !strings.Contains(r.stdout, "weight         : 300") || !strings.Contains(r.stdout, "device_read_bytes_sec: "+dev+",1048576") {
		t.Errorf("virsh blkiotune:\n%s", r.stdout)
	}

	// The CLI reads and refuses the same (one service call behind both).
	if r := h.must("blkiotune", name); !strings.Contains(r.stdout, "weight         : 300") || !strings.Contains(r.stdout, "device_read_bytes_sec: "+dev+",1048576") {
		t.Errorf("vmlite blkiotune:\n%s", r.stdout)
	}
	// A live read is the cgroup's weight, not the one vmlite recorded: an
	// administrator's write to the file shows, as libvirt reads it too.
	if wf := blkioWeightFile(rel); wf != "" {
		if err := os.WriteFile(wf, []byte("450"), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := d.mustVirsh("blkiotune", name); !strings.Contains(r.stdout, "weight         : 450") {
			t.Errorf("virsh blkiotune after %s was written by hand:\n%s", wf, r.stdout)
		}
		if r := h.must("blkiotune", name); !strings.Contains(r.stdout, "weight         : 450") {
			t.Errorf("vmlite blkiotune after %s was written by hand:\n%s", wf, r.stdout)
		}
		d.mustVirsh("blkiotune", name, "--weight", "300", "--live")
	} else {
		t.Log("this host's blkio hierarchy has no weight file: the live weight read is not checked")
	}
	// memtune and schedinfo of a running guest read its cgroup too (v1
	// here; v2 on a faked tree in package cgroup): an administrator's
	// writes show, through virsh and the CLI; --config shows the stored
	// definition's values instead.
	for f, v := range map[string]string{"memory/memory.limit_in_bytes": "153600000", "cpu/cpu.shares": "700", "cpu/cpu.cfs_quota_us": "30000"} {
		if err := os.WriteFile(filepath.Join("/sys/fs/cgroup", filepath.Dir(f), rel, filepath.Base(f)), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, out := range []string{d.mustVirsh("memtune", name).stdout, h.must("memtune", name).stdout, d.mustVirsh("memtune", name, "--live").stdout} {
		if !strings.Contains(out, "hard_limit     : 150000") {
			t.Errorf("memtune after memory.limit_in_bytes was written by hand:\n%s", out)
		}
	}
	for _, out := range []string{d.mustVirsh("schedinfo", name).stdout, h.must("schedinfo", name).stdout, d.mustVirsh("schedinfo", name, "--live").stdout} {
		if !strings.Contains(out, "cpu_shares     : 700") || !strings.Contains(out, "vcpu_quota     : 30000") {
			t.Errorf("schedinfo after cpu.shares and cpu.cfs_quota_us were written by hand:\n%s", out)
		}
	}
	if out := d.mustVirsh("schedinfo", name, "--config").stdout; strings.Contains(out, "cpu_shares     : 700") || !strings.Contains(out, "vcpu_quota     : -1") {
		t.Errorf("virsh schedinfo --config shows the live values:\n%s", out)
	}
	if out := d.mustVirsh("memtune", name, "--config").stdout; !strings.Contains(out, "hard_limit     : unlimited") {
		t.Errorf("virsh memtune --config shows the live values:\n%s", out)
	}
	d.mustVirsh("memtune", name, "--hard-limit", "200000", "--live")
	d.mustVirsh("schedinfo", name, "--set", "cpu_shares=512", "--set", "vcpu_quota=50000", "--live")
	if r := h.run("blkiotune", name, "--weight", "5", "--live"); r.code != 2 || !strings.Contains(r.stderr, "blkio weight 5") {
		t.Errorf("vmlite blkiotune --weight 5: %v, want exit 2 naming the weight", r)
	}
	h.must("blkiotune", name, "--device-write-iops-sec", dev+",20", "--live")
	if got := file("blkio", "blkio.throttle.write_iops_device"); !strings.Contains(got, num+" 20") {
		t.Errorf("blkio.throttle.write_iops_device after vmlite blkiotune --live: %q", got)
	}

	// --config: the stored definition changes, the running guest does not.
	d.mustVirsh("memtune", name, "--soft-limit", "100000", "--config")
	d.mustVirsh("schedinfo", name, "--set", "cpu_shares=256", "--config")
	d.mustVirsh("blkiotune", name, "--weight", "200", "--device-write-iops-sec", dev+",50", "--config")
	// setmaxmem: the stored maximum changes; a running guest's cannot, as
	// in libvirt's LXC driver.
	d.mustVirsh("setmaxmem", name, "300M", "--config")
	if r := d.virsh(d.rw, "setmaxmem", name, "400M"); r.code == 0 || !strings.Contains(r.stderr, "cannot resize the max memory on an active domain") {
		t.Errorf("virsh setmaxmem of a running guest: %v, want OPERATION_INVALID", r)
	}
	x := d.mustVirsh("dumpxml", "--inactive", name).stdout
	for _, want := range []string{`<memory unit="KiB">307200</memory>`, `<soft_limit unit="KiB">100000</soft_limit>`, "<shares>256</shares>", "<weight>200</weight>", "<write_iops_sec>50</write_iops_sec>", "<path>" + dev + "</path>"} {
		if !strings.Contains(strings.ReplaceAll(x, "'", `"`), want) {
			t.Errorf("dumpxml --inactive lacks %s:\n%s", want, x)
		}
	}
	if strings.Contains(x, "<hard_limit") {
		t.Errorf("a --live memtune reached the definition:\n%s", x)
	}
	if got := file("cpu", "cpu.shares"); got != "512" {
		t.Errorf("cpu.shares after schedinfo --config: %q, want the live 512", got)
	}
	if r := d.mustVirsh("schedinfo", name, "--config"); !strings.Contains(r.stdout, "cpu_shares     : 256") {
		t.Errorf("virsh schedinfo --config:\n%s", r.stdout)
	}

	// Impossible values: INVALID_ARG naming the field, nothing changed.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"schedinfo", name, "--set", "vcpu_period=10", "--live"}, "vcpu_period=10"},
		{[]string{"memtune", name, "--hard-limit", "300000", "--swap-hard-limit", "250000", "--live"}, "swap_hard_limit"},
		{[]string{"blkiotune", name, "--weight", "5", "--live"}, "weight=5"},
		{[]string{"blkiotune", name, "--device-read-bytes-sec", "/etc/hostname,5", "--live"}, "not a block device"},
	} {
		r := d.virsh(d.rw, c.args...)
		if r.code == 0 || !strings.Contains(r.stderr, "invalid argument") || !strings.Contains(r.stderr, c.want) {
			t.Errorf("virsh %s: %v, want invalid argument naming %s", strings.Join(c.args, " "), r, c.want)
		}
	}
	if got := file("memory", "memory.limit_in_bytes"); got != "204800000" {
		t.Errorf("memory.limit_in_bytes after refused calls: %q", got)
	}
	if got := file("cpu", "cpu.cfs_period_us"); got != "100000" {
		t.Errorf("cpu.cfs_period_us after a refused period: %q", got)
	}

	// libvirt-python.
	script := filepath.Join(t.TempDir(), "tune.py")
	if err := os.WriteFile(script, []byte(tuneScript), 0o644); err != nil {
		t.Fatal(err)
	}
	pr := runTool(t, nil, "/usr/bin/python3", script, d.uri(d.rw), name)
	if pr.code != 0 {
		t.Fatalf("python client: %v\ndaemon:\n%s", pr, tail(d.log.String()))
	}
	for _, want := range []string{
		"memory hard_limit 200000 soft_limit unlimited",
		"sched cpu_shares 512 vcpu_quota 50000",
		"sched-config cpu_shares 256",
		"blkio weight 300",
		"set-error code 8 names vcpu_period True",
	} {
		if !strings.Contains(pr.stdout, want) {
			t.Errorf("python client output lacks %q:\n%s", want, pr.stdout)
		}
	}
	if got := file("memory", "memory.limit_in_bytes"); got != "268435456" {
		t.Errorf("memory.limit_in_bytes after setMemoryParameters: %q, want 268435456", got)
	}
	if got := file("cpu", "cpu.shares"); got != "128" {
		t.Errorf("cpu.shares after setSchedulerParametersFlags: %q, want 128", got)
	}
	if x := d.mustVirsh("dumpxml", "--inactive", name).stdout; !strings.Contains(x, "<weight>400</weight>") {
		t.Errorf("dumpxml --inactive after setBlkioParameters(CONFIG):\n%s", x)
	}

	// Shut off, the reads fall back to the stored definition; --live is
	// libvirt's "domain is not running".
	d.mustVirsh("destroy", name)
	if out := d.mustVirsh("memtune", name).stdout; !strings.Contains(out, "soft_limit     : 100000") || !strings.Contains(out, "hard_limit     : unlimited") {
		t.Errorf("virsh memtune of the shut-off guest:\n%s", out)
	}
	if out := d.mustVirsh("schedinfo", name).stdout; !strings.Contains(out, "cpu_shares     : 256") {
		t.Errorf("virsh schedinfo of the shut-off guest:\n%s", out)
	}
	if r := d.virsh(d.rw, "memtune", name, "--live"); r.code == 0 || !strings.Contains(r.stderr, "domain is not running") {
		t.Errorf("virsh memtune --live of the shut-off guest: %v", r)
	}
}

// tuneScript reads and sets the tuning parameters as libvirt-python
// scripts do.
const tuneScript = `
import sys, libvirt
uri, name = sys.argv[1], sys.argv[2]
conn = libvirt.open(uri)
dom = conn.lookupByName(name)
UNL = 9007199254740991
m = dom.memoryParameters(libvirt.VIR_DOMAIN_AFFECT_LIVE)
print("memory hard_limit", m["hard_limit"], "soft_limit", "unlimited" if m["soft_limit"] == UNL else m["soft_limit"])
s = dom.schedulerParameters()
print("sched cpu_shares", s["cpu_shares"], "vcpu_quota", s["vcpu_quota"])
s = dom.schedulerParametersFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG)
print("sched-config cpu_shares", s["cpu_shares"])
b = dom.blkioParameters(libvirt.VIR_DOMAIN_AFFECT_LIVE)
print("blkio weight", b["weight"])
dom.setMemoryParameters({"hard_limit": 262144}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
dom.setSchedulerParametersFlags({"cpu_shares": 128}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
dom.setBlkioParameters({"weight": 400}, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
try:
    dom.setSchedulerParametersFlags({"vcpu_period": 10}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    print("set-error none")
except libvirt.libvirtError as e:
    print("set-error code", e.get_error_code(), "names vcpu_period", "vcpu_period" in str(e))
conn.close()
`

// TestServeTransientConfig: a change to the stored definition (--config)
// of a transient guest gets libvirt's OPERATION_INVALID "transient
// domains do not have any persistent config", not "domain not found";
// autostart is refused the same way; --live still works.
func TestServeTransientConfig(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("it-rpctrans")
	xml, _ := h.busybox(name, false)
	d.mustVirsh("create", xml)
	t.Cleanup(func() { h.run("destroy", name) })
	for _, args := range [][]string{
		{"memtune", name, "--hard-limit", "200000", "--config"},
		{"memtune", name, "--config"},
		{"schedinfo", name, "--set", "cpu_shares=512", "--config"},
		{"blkiotune", name, "--weight", "300", "--config"},
		{"setmem", name, "100M", "--config"},
	} {
		r := d.virsh(d.rw, args...)
		if r.code == 0 || !strings.Contains(r.stderr, "Requested operation is not valid") || !strings.Contains(r.stderr, "transient domains do not have any persistent config") {
			t.Errorf("virsh %s: %v; want OPERATION_INVALID for a transient domain", strings.Join(args, " "), r)
		}
	}
	if r := d.virsh(d.rw, "autostart", name); r.code == 0 || !strings.Contains(r.stderr, "Requested operation is not valid") || !strings.Contains(r.stderr, "autostart for a transient domain") {
		t.Errorf("virsh autostart of a transient domain: %v", r)
	}
	if r := h.run("memtune", name, "--hard-limit", "200000", "--config"); r.code != 2 || !strings.Contains(r.stderr, "transient") {
		t.Errorf("vmlite memtune --config of a transient guest: %v, want exit 2", r)
	}
	d.mustVirsh("memtune", name, "--hard-limit", "200000", "--live")
	if r := d.mustVirsh("memtune", name); !strings.Contains(r.stdout, "hard_limit     : 200000") {
		t.Errorf("virsh memtune after --live:\n%s", r.stdout)
	}
}
