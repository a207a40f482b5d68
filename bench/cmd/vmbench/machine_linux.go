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

	"vmlite/state"
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

// ownership is what tells this run's cgroups from another's: two harness
// runs at once (two engineers' sections) name their guests alike
// (vmb-...), so a name alone says nothing.
type ownership struct {
	// instances are the InstanceIDs of this run's vmlite state roots: a
	// vmlite guest's cgroup is NAME.ID, so unique to its root.
	instances map[string]bool
	// names are those of the directories under the run's scratch
	// directory, which holds every guest's (LXC's lxcpath/NAME too): the
	// names this run gave its LXC and libvirt guests.
	names map[string]bool
	// lxc: this run's LXC peer made containers (a NAME/config in its
	// lxcpath), so an lxc.pivot that appeared is its.
	lxc bool
	// nspawn is this run's own nspawn cgroup (nspawnCgroupName).
	nspawn string
}

// ownership gathers what this run made (before its scratch directory
// goes).
func (b *bench) ownership() ownership {
	own := ownership{instances: map[string]bool{}, names: map[string]bool{}, nspawn: nspawnCgroupName()}
	for _, vp := range b.vmlitePeers() {
		if vp.root != "" {
			own.instances[state.NewLayout(vp.root).InstanceID()] = true
		}
	}
	if b.work != "" {
		walkNames(b.work, 0, &own)
	}
	return own
}

func walkNames(dir string, depth int, own *ownership) {
	if depth > 3 {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.IsDir() || e.Type()&os.ModeSymlink != 0 {
			continue
		}
		p := filepath.Join(dir, e.Name())
		own.names[e.Name()] = true
		// LXC's lxcpath/NAME/config (an lxcpath is a directory of the
		// scratch one's, or that itself: not a guest's rootfs below).
		if c, err := os.ReadFile(filepath.Join(p, "config")); depth <= 1 && err == nil && strings.Contains(string(c), "lxc.") {
			own.lxc = true
		}
		walkNames(p, depth+1, own)
	}
}

// isOurCgroup says whether path is a cgroup this run's references or
// vmlite made for its guests, or one below it: LXC's
// lxc.payload.NAME/lxc.monitor.NAME of a container this run named, and
// lxc.pivot if this run's LXC peer ran (LXC's own, made once for the host:
// removed only when it appeared during this run, removeNewCgroups), the
// run's own nspawn cgroup with the payload/supervisor nspawn makes below
// it (it has no machined here; a systemd guest leaves payload/init.scope
// below those), libvirt's machine/lxc-PID-NAME.libvirt-lxc of a guest
// this run named, and vmlite's NAME.ID of this run's state roots. Two runs
// at once whose LXC or libvirt guests have the same name cannot be told
// apart by the cgroup (LXC names it after the container, not its
// lxcpath); their vmlite and nspawn cgroups can.
func isOurCgroup(path string, own ownership) bool {
	for _, el := range strings.Split(path, "/") {
		switch {
		case el == "":
		case el == own.nspawn:
			return true
		case el == "lxc.pivot":
			if own.lxc {
				return true
			}
		case strings.HasPrefix(el, "lxc.payload.") || strings.HasPrefix(el, "lxc.monitor."):
			if own.names[el[len("lxc.payload."):]] {
				return true
			}
		case strings.HasSuffix(el, ".libvirt-lxc"):
			// lxc-PID-NAME.libvirt-lxc
			f := strings.SplitN(strings.TrimSuffix(el, ".libvirt-lxc"), "-", 3)
			if len(f) == 3 && f[0] == "lxc" && own.names[f[2]] {
				return true
			}
		default:
			if i := strings.LastIndexByte(el, '.'); i > 0 && strings.HasPrefix(el, "vmb-") && own.instances[el[i+1:]] {
				return true
			}
		}
	}
	return false
}

// removeNewCgroups removes, deepest first, the empty cgroups of ours that
// did not exist before the run, and returns what it removed.
func removeNewCgroups(before map[string]bool, own ownership) []string {
	now := cgroupDirs()
	var fresh []string
	for d := range now {
		if !before[d] && isOurCgroup(d, own) {
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
