package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"vmlite/state"
)

func TestGuestXML(t *testing.T) {
	tmpl := `<domain type="lxc">
  <name>rootfs</name>
  <devices>
    <filesystem type="mount">
      <source dir="/tmp/x/rootfs"></source>
      <target dir="/"></target>
    </filesystem>
  </devices>
</domain>`
	got := guestXML(tmpl, "vmb-vmlite-0001", "/var/tmp/s/r1")
	for _, want := range []string{"<name>vmb-vmlite-0001</name>", `<source dir="/var/tmp/s/r1">`, `<target dir="/">`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "rootfs</name>") || strings.Contains(got, "/tmp/x/rootfs") {
		t.Errorf("old name or source left in\n%s", got)
	}
}

func TestSplitLists(t *testing.T) {
	tests := []struct {
		in   string
		list []string
		ints []int
	}{
		{"", nil, nil},
		{"vmlite, lxc,,nspawn ", []string{"vmlite", "lxc", "nspawn"}, nil},
		{"50,200,x,-3,0", []string{"50", "200", "x", "-3", "0"}, []int{50, 200}},
	}
	for _, tt := range tests {
		if got := splitList(tt.in); strings.Join(got, "|") != strings.Join(tt.list, "|") {
			t.Errorf("splitList(%q) = %q, want %q", tt.in, got, tt.list)
		}
		got := splitInts(tt.in)
		if len(got) != len(tt.ints) {
			t.Errorf("splitInts(%q) = %v, want %v", tt.in, got, tt.ints)
			continue
		}
		for i := range got {
			if got[i] != tt.ints[i] {
				t.Errorf("splitInts(%q) = %v, want %v", tt.in, got, tt.ints)
			}
		}
	}
}

func TestSummarizeCyclesSplitsGracefulStop(t *testing.T) {
	nan := math.NaN()
	ss := []cycleSample{
		// stop took 2100 ms; rcK's marker at 30, init exited at 2060:
		// init's own part 2030, the manager's 70.
		{StartMarker: 100, StartExec: 50, StartReturn: 70, StopReturn: 2099, StopGone: 2100, ShutdownMarker: 30, InitExit: 2060},
		{StartMarker: 120, StartExec: 60, StartReturn: 80, StopReturn: 2199, StopGone: 2200, ShutdownMarker: 40, InitExit: 2140},
		{StartMarker: 110, StartExec: nan, StartReturn: nan, StopReturn: 30, StopGone: 31, ShutdownMarker: nan, InitExit: nan},
	}
	pc := summarizeCycles("p", "graceful", ss, []string{"e1", "e2", "e3", "e4"})
	if pc.StartMarker.Median != 110 || pc.StartMarker.N != 3 {
		t.Errorf("StartMarker %+v", pc.StartMarker)
	}
	if pc.StartExec.N != 2 || pc.StartExec.Median != 55 {
		t.Errorf("StartExec %+v (NaN must be left out)", pc.StartExec)
	}
	if pc.InitOwn.N != 2 || pc.InitOwn.Min != 2030 || pc.InitOwn.Max != 2100 {
		t.Errorf("InitOwn %+v", pc.InitOwn)
	}
	if pc.ManagerOverhead.N != 2 || pc.ManagerOverhead.Min != 70 || pc.ManagerOverhead.Max != 100 {
		t.Errorf("ManagerOverhead %+v", pc.ManagerOverhead)
	}
	if pc.Failures != 4 || len(pc.Errors) != 3 {
		t.Errorf("failures %d, errors kept %d", pc.Failures, len(pc.Errors))
	}
}

func TestMarkdownRatios(t *testing.T) {
	r := &Results{
		Peers: []string{"vmlite", "lxc"},
		Cycles: []PeerCycles{
			{Peer: "vmlite", Set: "forced", StartMarker: Summary{Median: 50, Min: 40, Max: 60, N: 20}},
			{Peer: "lxc", Set: "forced", StartMarker: Summary{Median: 100, Min: 90, Max: 110, N: 20}},
			{Peer: "lxc", Set: "graceful", Unsupported: "no way"},
		},
		Density: []DensityResult{
			{Peer: "vmlite", N: 50, Booted: 50, AllBootedS: 1, PerGuestKiB: 2000},
			{Peer: "lxc", N: 50, Booted: 50, AllBootedS: 4, PerGuestKiB: 1000},
		},
	}
	md := markdown(r)
	for _, want := range []string{
		"| start → marker (ms) | 50.00 / 40.00 / 60.00 | 100.0 / 90.00 / 110.0 | 0.50 |",
		"lxc, graceful: unsupported: no way.",
		"| lxc | 50 | 50 | 0 | 0.00 | 4.00 | 0.0 | 1000 | – | 0 | 0.00 | 0.25 | 2.00 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestIsOurCgroup: only the cgroups of this run's guests are its: two
// runs at once name their guests alike, so a vmlite cgroup is this run's
// by its state root's instance, an LXC or libvirt one by a name this run
// gave, lxc.pivot only when this run's LXC peer ran, nspawn's by the
// run's own cgroup.
func TestIsOurCgroup(t *testing.T) {
	own := ownership{instances: map[string]bool{"3f2a0b1c": true}, names: map[string]bool{"vmb-lxc-f": true, "vmb-lib-f": true}, lxc: true, nspawn: nspawnCgroupName()}
	noLXC := own
	noLXC.lxc = false
	tests := []struct {
		path string
		own  ownership
		want bool
	}{
		{"/sys/fs/cgroup/memory/lxc.payload.vmb-lxc-f", own, true},
		{"/sys/fs/cgroup/memory/lxc.monitor.vmb-lxc-f", own, true},
		{"/sys/fs/cgroup/memory/lxc.payload.vmb-lxc-f/init.scope", own, true},
		// Another run's LXC guest, or one started by hand.
		{"/sys/fs/cgroup/memory/lxc.payload.vmb-lxc-g", own, false},
		{"/sys/fs/cgroup/memory/lxc.payload.web", own, false},
		{"/sys/fs/cgroup/cpu/lxc.pivot", own, true},
		// lxc.pivot is LXC's: a run without LXC containers leaves it.
		{"/sys/fs/cgroup/cpu/lxc.pivot", noLXC, false},
		{"/sys/fs/cgroup/systemd/" + nspawnCgroupName(), own, true},
		{"/sys/fs/cgroup/systemd/" + nspawnCgroupName() + "/payload", own, true},
		{"/sys/fs/cgroup/systemd/" + nspawnCgroupName() + "/payload/init.scope", own, true},
		{"/sys/fs/cgroup/unified/" + nspawnCgroupName() + "/supervisor", own, true},
		// nspawn's cgroups outside this run's own: another harness's, or
		// an nspawn started by hand where the harness runs.
		{"/sys/fs/cgroup/systemd/payload", own, false},
		{"/sys/fs/cgroup/unified/supervisor", own, false},
		{"/sys/fs/cgroup/systemd/vmbench-" + strconv.Itoa(os.Getpid()+1) + ".nspawn/payload", own, false},
		{"/sys/fs/cgroup/memory/machine/lxc-1-vmb-lib-f.libvirt-lxc", own, true},
		{"/sys/fs/cgroup/memory/machine/lxc-1-vmb-lib-g.libvirt-lxc", own, false},
		{"/sys/fs/cgroup/memory/vmlite/machine/vmb-pf0.3f2a0b1c", own, true},
		{"/sys/fs/cgroup/memory/vmlite/machine/vmb-pf0.3f2a0b1c/init.scope", own, true},
		// Another run's vmlite guest of the same name (another state root).
		{"/sys/fs/cgroup/memory/vmlite/machine/vmb-pf0.0badf00d", own, false},
		// Another's guests (a test running beside the bench): never ours.
		{"/sys/fs/cgroup/memory/machine/lxc-1-x.libvirt-lxc", own, false},
		{"/sys/fs/cgroup/memory/vmlite/machine/it-stb-6a39cd.e3f3a87b", own, false},
		{"/sys/fs/cgroup/memory/process_api", own, false},
		{"/sys/fs/cgroup/systemd/init.scope", own, false},
		{"/sys/fs/cgroup/memory/vmlite/other", own, false},
		{"/sys/fs/cgroup/memory/vmlite", own, false},
	}
	for _, tt := range tests {
		if got := isOurCgroup(tt.path, tt.own); got != tt.want {
			t.Errorf("isOurCgroup(%q, lxc %v) = %v, want %v", tt.path, tt.own.lxc, got, tt.want)
		}
	}
}

// TestOwnership: a run's ownership holds its vmlite roots' instances, the
// names of the directories in its scratch one (its guests'), and whether
// its LXC peer made a container.
func TestOwnership(t *testing.T) {
	work := t.TempDir()
	for _, d := range []string{"lxc/vmb-lxc-f", "vmlite/vmb-vmlite-f", "vmlite-root/run"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b := &bench{work: work, vm: &vmlitePeer{root: filepath.Join(work, "vmlite-root")}}
	if own := b.ownership(); own.lxc || !own.names["vmb-lxc-f"] || !own.names["vmb-vmlite-f"] || !own.instances[state.NewLayout(b.vm.root).InstanceID()] {
		t.Errorf("ownership %+v", own)
	}
	if err := os.WriteFile(filepath.Join(work, "lxc/vmb-lxc-f/config"), []byte("lxc.uts.name = vmb-lxc-f\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !b.ownership().lxc {
		t.Error("an LXC container's config does not count")
	}
}
