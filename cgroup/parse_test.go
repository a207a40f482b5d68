package cgroup

import (
	"reflect"
	"strings"
	"testing"
)

// hostMountinfo is this project's dev host (cgroup v1 hybrid), trimmed.
const hostMountinfo = `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
41 30 0:38 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid shared:9 - cgroup cgroup rw,net_cls,net_prio,release_agent=/x
50 22 0:40 / /mnt/with\040space rw - tmpfs none rw
`

func TestParseMountInfo(t *testing.T) {
	ms, err := ParseMountInfo(hostMountinfo)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 9 {
		t.Fatalf("got %d mounts, want 9", len(ms))
	}
	if got := ms[8].MountPoint; got != "/mnt/with space" {
		t.Errorf("unescaped mount point = %q", got)
	}
	if ms[7].Options != "rw,nosuid" || ms[7].FSType != "cgroup" || ms[7].SuperOptions != "rw,net_cls,net_prio,release_agent=/x" {
		t.Errorf("optional fields mishandled: %+v", ms[7])
	}
	cg := CgroupMounts(ms, "/sys/fs/cgroup/")
	var got []string
	for _, m := range cg {
		got = append(got, m.MountPoint[len("/sys/fs/cgroup/"):]+"="+m.V1Options())
	}
	want := []string{"cpu=cpu", "cpuacct=cpuacct", "memory=memory", "systemd=none,name=systemd", "unified=", "net_cls,net_prio=net_cls,net_prio"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cgroup mounts %q, want %q", got, want)
	}
	for _, bad := range []string{"1 2 3", "a b 0:1 / / rw - ext4 x rw", "1 2 0:1 / / rw shared:1 ext4"} {
		if _, err := ParseMountInfo(bad); err == nil {
			t.Errorf("ParseMountInfo(%q) succeeded", bad)
		}
	}
}

func TestParsers(t *testing.T) {
	if got := parseFlatKeyed("oom_kill_disable 0\nunder_oom 1\noom_kill 3\nbad\nx y\n"); !reflect.DeepEqual(got, map[string]uint64{"oom_kill_disable": 0, "under_oom": 1, "oom_kill": 3}) {
		t.Errorf("parseFlatKeyed = %v", got)
	}
	if got := parseNestedKeyed("8:0 rbytes=1 wbytes=2\n8:16 rbytes=10 junk wios=x\n"); !reflect.DeepEqual(got, map[string]uint64{"rbytes": 11, "wbytes": 2}) {
		t.Errorf("parseNestedKeyed = %v", got)
	}
	if r, w := parseBlkioV1("8:0 Read 5\n8:0 Write 7\n8:0 Total 12\n8:16 Read 1\nTotal 13\n"); r != 6 || w != 7 {
		t.Errorf("parseBlkioV1 = %d, %d", r, w)
	}
	if got, err := parsePids("1\n22\n"); err != nil || !reflect.DeepEqual(got, []int{1, 22}) {
		t.Errorf("parsePids = %v, %v", got, err)
	}
	for _, bad := range []string{"x", "0", "-3"} {
		if _, err := parsePids(bad); err == nil {
			t.Errorf("parsePids(%q) succeeded", bad)
		}
	}
}

// FuzzParseMountInfo: never panics; whatever parses keeps its fields free
// of separators.
func FuzzParseMountInfo(f *testing.F) {
	f.Add(hostMountinfo)
	f.Add(`1 2 0:1 /a\134b /m\011 rw - cgroup c rw,name=systemd,none`)
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMountInfo(s)
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.FSType == "" || strings.ContainsAny(m.FSType, " \n") {
				t.Fatalf("bad fstype %q from %q", m.FSType, s)
			}
			_ = m.V1Options()
		}
		_ = CgroupMounts(ms, "/sys/fs/cgroup")
	})
}

// FuzzParseCgroupFiles feeds one input to every control-file parser.
func FuzzParseCgroupFiles(f *testing.F) {
	f.Add("oom_kill 3\n")
	f.Add("8:0 rbytes=1 wbytes=2\n")
	f.Add("8:0 Read 5\nTotal 5\n")
	f.Add("1\n2\n")
	f.Fuzz(func(t *testing.T, s string) {
		for k := range parseFlatKeyed(s) {
			if strings.ContainsAny(k, " \t\n") {
				t.Fatalf("key %q has blanks", k)
			}
		}
		parseNestedKeyed(s)
		parseBlkioV1(s)
		if pids, err := parsePids(s); err == nil {
			for _, p := range pids {
				if p <= 0 {
					t.Fatalf("pid %d", p)
				}
			}
		}
	})
}
