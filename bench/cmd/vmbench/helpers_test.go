package main

import (
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
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

func TestIsOurCgroup(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/sys/fs/cgroup/memory/lxc.payload.vmb-lxc-f", true},
		{"/sys/fs/cgroup/cpu/lxc.pivot", true},
		{"/sys/fs/cgroup/systemd/" + nspawnCgroupName(), true},
		{"/sys/fs/cgroup/systemd/" + nspawnCgroupName() + "/payload", true},
		{"/sys/fs/cgroup/systemd/" + nspawnCgroupName() + "/payload/init.scope", true},
		{"/sys/fs/cgroup/unified/" + nspawnCgroupName() + "/supervisor", true},
		// nspawn's cgroups outside this run's own: another harness's, or
		// an nspawn started by hand where the harness runs.
		{"/sys/fs/cgroup/systemd/payload", false},
		{"/sys/fs/cgroup/unified/supervisor", false},
		{"/sys/fs/cgroup/systemd/vmbench-" + strconv.Itoa(os.Getpid()+1) + ".nspawn/payload", false},
		{"/sys/fs/cgroup/memory/machine/lxc-1-vmb-lib-f.libvirt-lxc", true},
		{"/sys/fs/cgroup/memory/vmlite/machine/vmb-pf0.3f2a", true},
		// Another's guests (a test running beside the bench): never ours.
		{"/sys/fs/cgroup/memory/machine/lxc-1-x.libvirt-lxc", false},
		{"/sys/fs/cgroup/memory/vmlite/machine/it-stb-6a39cd.e3f3a87b", false},
		{"/sys/fs/cgroup/memory/process_api", false},
		{"/sys/fs/cgroup/systemd/init.scope", false},
		{"/sys/fs/cgroup/memory/vmlite/other", false},
	}
	for _, tt := range tests {
		if got := isOurCgroup(tt.path); got != tt.want {
			t.Errorf("isOurCgroup(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
