package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func machineInfo() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), LoadStart: loadAvg()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		m.Distro = "Debian " + strings.TrimSpace(string(b))
	}
	m.CgroupMode = cgroupMode()
	if b, err := os.ReadFile("/proc/1/comm"); err == nil {
		m.PID1 = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		var total int64
		b, _ := io.ReadAll(f)
		for _, l := range strings.Split(string(b), "\n") {
			if fs := strings.Fields(l); len(fs) > 1 && fs[0] == "MemTotal:" {
				total = atoi64(fs[1])
			}
		}
		m.MemTotalMB = total / 1024
	}
	return m
}

func atoi64(s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return n
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// cgroupMode tells unified (cgroup2 only), hybrid (v1 controllers plus a
// cgroup2 mount) and legacy (v1 only).
func cgroupMode() string {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "unified (v2)"
	}
	if unix.Statfs("/sys/fs/cgroup/unified", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "hybrid (v1 controllers + cgroup2 at /sys/fs/cgroup/unified)"
	}
	return "legacy (v1)"
}

func sha256File(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "?"
	}
	defer f.Close()
	h := sha256.New()
	n, _ := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))[:12] + " (" + strconv.FormatInt(n/1024, 10) + " KiB)"
}

func gitDescribe() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// cgroupDirs lists the cgroup directories down to three levels in every
// mounted hierarchy.
func cgroupDirs() map[string]bool {
	out := map[string]bool{}
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, r := range roots {
		walkDirs(r, 0, out)
	}
	return out
}

func walkDirs(dir string, depth int, out map[string]bool) {
	if depth > 3 {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() {
			p := filepath.Join(dir, e.Name())
			out[p] = true
			walkDirs(p, depth+1, out)
		}
	}
}

// isOurCgroup says whether path is a cgroup the references make for our
// guests, or one below it: LXC's lxc.payload.NAME/lxc.monitor.NAME and
// lxc.pivot, the run's own nspawn cgroup (nspawnCgroupName) with the
// payload/supervisor nspawn makes below it (it has no machined here; a
// systemd guest leaves payload/init.scope below those), libvirt's
// machine/NAME.libvirt-lxc, and vmlite's. Every guest of the harness is
// named vmb-...: a vmlite or libvirt cgroup (machine/NAME...) of another
// name is somebody else's (a test running beside the bench), and so is an
// nspawn cgroup outside this run's: neither is ever touched.
func isOurCgroup(path string) bool {
	if strings.Contains(path, "vmb-") {
		return true
	}
	own := nspawnCgroupName()
	for _, el := range strings.Split(path, "/") {
		if el == "lxc.pivot" || el == own {
			return true
		}
	}
	return false
}

// removeNewCgroups removes, deepest first, the empty cgroups of ours that
// did not exist before the run, and returns what it removed.
func removeNewCgroups(before map[string]bool) []string {
	now := cgroupDirs()
	var fresh []string
	for d := range now {
		if !before[d] && isOurCgroup(d) {
			fresh = append(fresh, d)
		}
	}
	sort.Slice(fresh, func(i, j int) bool { return len(fresh[i]) > len(fresh[j]) })
	var removed []string
	for _, d := range fresh {
		if unix.Rmdir(d) == nil {
			removed = append(removed, d)
		}
	}
	return removed
}
