package procfs

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/plan"
)

// served is one registered guest as the server knows it.
type served struct {
	e Entry
	d cgDirs

	mu     sync.Mutex // guards load and loadAt
	load   Load
	loadAt time.Duration
}

// View computes the served files for each reader. It holds the registry in
// memory and reloads it when the registry directory changed (one stat per
// read), so a read costs the reader's /proc/PID/cgroup and the few cgroup
// files of the one file asked for.
type View struct {
	layout    Layout
	guestsDir string // layout.GuestsDir()
	mode      cgroup.Mode
	// cgRoot is the host's cgroup root, hostRoot the directory holding
	// proc/ and sys/ (both "/"-based on a real host; tests fake them).
	cgRoot, hostRoot string
	// now is CLOCK_BOOTTIME.
	now func() time.Duration
	// logf, if set, is told of readers in vmlite's cgroups that match no guest.
	logf func(string, ...any)
	// gone, if set, is told the names of guests no longer registered.
	gone func(names []string)
	// reloaded, if set, runs after the whole registry was read again.
	reloaded func()

	mu       sync.Mutex // guards the fields below
	byRel    map[string]*served
	regMtime time.Time
	// watch, if set, says which entries changed (Watch); full asks the
	// next refresh to read them all.
	watch *regWatch
	full  bool
	// changed is set when entries were read again, until Refresh.
	changed bool
	// roots are the hierarchies' roots, shared by the guests' cgDirs.
	roots map[string]string

	hostMu    sync.Mutex // guards hostFiles
	hostFiles map[string]*hostFile
}

// NewView returns the view of the guests registered in l.
func NewView(l Layout, mode cgroup.Mode, cgRoot, hostRoot string, now func() time.Duration) *View {
	return &View{layout: l, guestsDir: l.GuestsDir(), mode: mode, cgRoot: cgRoot, hostRoot: hostRoot, now: now, byRel: map[string]*served{}, hostFiles: map[string]*hostFile{}}
}

// refresh reloads the registry if it changed: the entries the watch
// (Watch) says changed, or, without a watch, all of them when the
// directory's mtime changed. force (a reader that matches no guest)
// reloads all of them: a directory's mtime has the kernel's coarse clock,
// so two changes within a tick look like one. It reports whether it
// read any entry again.
func (v *View) refresh(force bool) bool {
	v.mu.Lock()
	full := force || v.full
	var changed []string
	if v.watch != nil && !full {
		ev, err := v.watch.pending()
		switch {
		case err != nil:
			// Back to the directory's mtime.
			v.watch.close()
			v.watch = nil
			full = true
		case ev.all:
			full = true
		case len(ev.names) == 0:
			v.mu.Unlock()
			return false
		default:
			changed = ev.names
		}
	}
	var mt time.Time
	if full || v.watch == nil {
		// unix.Stat, not os.Stat: no FileInfo on the heap for each read.
		var st unix.Stat_t
		if unix.Stat(v.guestsDir, &st) == nil {
			mt = time.Unix(st.Mtim.Unix())
		}
		if !full && mt.Equal(v.regMtime) && len(v.byRel) > 0 {
			v.mu.Unlock()
			return false
		}
		full = true
	}
	var gone []string
	n := 0
	if full {
		if v.watch != nil {
			_, _ = v.watch.pending() // what the full reload reads anyway
		}
		v.full, v.regMtime = false, mt
		gone, n = v.reloadAllLocked()
	} else {
		gone = v.reloadNamesLocked(changed)
	}
	v.changed = true
	tell := v.gone
	v.mu.Unlock()
	if v.reloaded != nil && n > 0 {
		v.reloaded()
	}
	if tell != nil && len(gone) > 0 {
		tell(gone)
	}
	return true
}

// Watch makes the view read again only the registry entries that changed
// (inotify), not all of them whenever one did. Without it (an error: the
// registry directory is missing) the view goes by the directory's mtime.
func (v *View) Watch() error {
	w, err := watchRegistry(v.guestsDir)
	if err != nil {
		return err
	}
	v.mu.Lock()
	if v.watch != nil {
		v.watch.close()
	}
	v.watch, v.full = w, true // what changed before the watch began
	v.mu.Unlock()
	return nil
}

// reloadAllLocked reads every entry again; it returns the names no
// longer registered and how many entries it read. Call it with mu held.
func (v *View) reloadAllLocked() ([]string, int) {
	ents, _ := v.layout.Entries()
	next := map[string]*served{}
	for _, e := range ents {
		rel, err := e.rel()
		if err != nil {
			continue
		}
		if old, ok := v.byRel[rel]; ok && old.e.Name == e.Name {
			old.mu.Lock()
			old.e = e
			old.mu.Unlock()
			next[rel] = old
			continue
		}
		if g := v.newServed(e, rel); g != nil {
			next[rel] = g
		}
	}
	names := map[string]bool{}
	for _, g := range next {
		names[g.e.Name] = true
	}
	var gone []string
	for _, g := range v.byRel {
		if !names[g.e.Name] {
			gone = append(gone, g.e.Name)
		}
	}
	v.byRel = next
	return gone, len(ents)
}

// reloadNamesLocked reads again the entries of names (each registered,
// replaced or removed); it returns those no longer registered. Call it
// with mu held.
func (v *View) reloadNamesLocked(names []string) []string {
	var gone []string
	for _, name := range names {
		var old *served
		oldRel := ""
		for rel, g := range v.byRel {
			if g.e.Name == name {
				old, oldRel = g, rel
				break
			}
		}
		e, ok := v.layout.entry(name)
		rel := ""
		if ok {
			var err error
			if rel, err = e.rel(); err != nil {
				ok = false
			}
		}
		switch {
		case !ok:
			if old != nil {
				delete(v.byRel, oldRel)
				gone = append(gone, name)
			}
		case old != nil && oldRel == rel:
			old.mu.Lock()
			old.e = e
			old.mu.Unlock()
		default:
			if old != nil {
				delete(v.byRel, oldRel)
			}
			if g := v.newServed(e, rel); g != nil {
				v.byRel[rel] = g
			} else if old != nil {
				gone = append(gone, name)
			}
		}
	}
	return gone
}

// newServed is the view's record of e, whose cgroup is rel; nil when its
// cgroup's hierarchies are not found. Call it with mu held.
func (v *View) newServed(e Entry, rel string) *served {
	m, err := cgroup.New(v.cgRoot, v.mode, plan.Cgroup{Partition: e.Partition, Name: e.CgroupDir})
	if err != nil {
		return nil
	}
	roots := hierarchyRoots(m.Paths(), rel)
	if roots == nil {
		return nil
	}
	if maps.Equal(roots, v.roots) {
		roots = v.roots // one map for all
	} else if v.roots == nil {
		v.roots = roots
	}
	return &served{e: e, d: cgDirs{mode: v.mode, roots: roots, rel: rel, depth: strings.Count(rel, "/")}}
}

// Refresh looks whether the registry changed (the server's idle check:
// the trees of guests gone are dropped even when nobody reads), and
// reports whether it was read again since the last Refresh (by this
// look, or by a reader's).
func (v *View) Refresh() bool {
	v.refresh(false)
	v.mu.Lock()
	defer v.mu.Unlock()
	c := v.changed
	v.changed = false
	return c
}

// registered reports whether a guest of that name is registered.
func (v *View) registered(name string) bool {
	v.refresh(false)
	return v.has(name)
}

// has reports whether the view holds a guest of that name (as last read).
func (v *View) has(name string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, g := range v.byRel {
		if g.e.Name == name {
			return true
		}
	}
	return false
}

// names returns the registered guests' names, sorted.
func (v *View) names() []string {
	v.refresh(false)
	v.mu.Lock()
	out := make([]string, 0, len(v.byRel))
	for _, g := range v.byRel {
		out = append(out, g.e.Name)
	}
	v.mu.Unlock()
	sort.Strings(out)
	return out
}

// guestOf returns the guest whose cgroup holds pid, nil for a process of
// no served guest.
func (v *View) guestOf(pid int) (*served, error) {
	b, err := readSmall(filepath.Join(v.hostRoot, "proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return nil, fmt.Errorf("reader %d: %w", pid, err)
	}
	path, err := ParseProcCgroup(b, v.mode)
	if err != nil {
		return nil, fmt.Errorf("reader %d: %w", pid, err)
	}
	if !strings.HasPrefix(path, "/"+cgroup.TopDir+"/") {
		return nil, nil // the host, or another manager's container
	}
	v.refresh(false)
	v.mu.Lock()
	g := match(v.byRel, path)
	v.mu.Unlock()
	if g == nil {
		v.refresh(true)
		v.mu.Lock()
		g = match(v.byRel, path)
		v.mu.Unlock()
	}
	if g == nil && v.logf != nil {
		v.logf("reader %d in cgroup %s: no guest of that cgroup is registered: the host's files", pid, path)
	}
	return g, nil
}

// host returns the host's own file (relative to hostRoot). The host's
// files are opened once and read again from offset 0 for each answer (the
// kernel's seq_file and sysfs files regenerate there), which saves each
// answer an open, a stat and a close per host file.
func (v *View) host(file string) (string, error) {
	v.hostMu.Lock()
	h, ok := v.hostFiles[file]
	if !ok {
		h = &hostFile{path: filepath.Join(v.hostRoot, file)}
		v.hostFiles[file] = h
	}
	v.hostMu.Unlock()
	return h.read()
}

// hostFile is one of the host's files, open for good.
type hostFile struct {
	path string
	mu   sync.Mutex // one reader at a time: a read in pieces must not be reset under it
	f    *os.File
	buf  []byte
}

func (h *hostFile) read() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f == nil {
		f, err := os.Open(h.path)
		if err != nil {
			return "", err
		}
		h.f = f
	}
	if h.buf == nil {
		h.buf = make([]byte, 8192)
	}
	n := 0
	for {
		if n == len(h.buf) {
			h.buf = append(h.buf, make([]byte, len(h.buf))...)
		}
		k, err := h.f.ReadAt(h.buf[n:], int64(n))
		n += k
		if errors.Is(err, io.EOF) || (err == nil && k == 0) {
			break
		}
		if err != nil {
			h.f.Close()
			h.f = nil
			return "", err
		}
	}
	return string(h.buf[:n]), nil
}

// hostOnline is the host's online CPU list.
func (v *View) hostOnline() []int {
	s, _ := v.host("sys/devices/system/cpu/online")
	cpus, _ := ParseCPUList(s)
	return cpus
}

// Render returns file (one of Files) as process pid reads it: computed
// from its guest's cgroup, or the host's own file for a process of no
// served guest. A guest whose cgroup is gone gets an error.
func (v *View) Render(file string, pid int) ([]byte, error) {
	g, err := v.guestOf(pid)
	if err != nil {
		return nil, err
	}
	if g == nil {
		s, err := v.host(file)
		return []byte(s), err
	}
	s, err := v.renderGuest(file, g)
	if err != nil {
		return nil, fmt.Errorf("guest %s: %s: %w", g.e.Name, file, err)
	}
	return []byte(s), nil
}

func (v *View) renderGuest(file string, g *served) (string, error) {
	switch file {
	case "proc/meminfo", "proc/swaps":
		m, err := readMem(g.d)
		if err != nil {
			return "", err
		}
		host, err := v.host("proc/meminfo")
		if err != nil {
			return "", err
		}
		if file == "proc/meminfo" {
			return Meminfo(host, m), nil
		}
		swaps, err := v.host("proc/swaps")
		if err != nil {
			return "", err
		}
		return Swaps(swaps, m, hostMeminfo(host)["SwapTotal"]), nil
	case "proc/cpuinfo", "sys/devices/system/cpu/online":
		c, err := readCPUs(g.d, v.hostOnline())
		if err != nil {
			return "", err
		}
		if file == "proc/cpuinfo" {
			host, err := v.host(file)
			return Cpuinfo(host, c), err
		}
		return Online(c), nil
	case "proc/stat":
		c, err := readCPUs(g.d, v.hostOnline())
		if err != nil {
			return "", err
		}
		u, err := readUsage(g.d)
		if err != nil {
			return "", err
		}
		host, err := v.host(file)
		return Stat(host, c, u), err
	case "proc/uptime":
		c, err := readCPUs(g.d, v.hostOnline())
		if err != nil {
			return "", err
		}
		u, err := readUsage(g.d)
		if err != nil {
			return "", err
		}
		g.mu.Lock()
		start := g.e.Start
		g.mu.Unlock()
		return Uptime(max(v.now()-start, 0), len(c.Visible()), u.User+u.System), nil
	case "proc/loadavg":
		running, total, err := readTasks(g.d, filepath.Join(v.hostRoot, "proc"))
		if err != nil {
			return "", err
		}
		now := v.now()
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.loadAt == 0 {
			g.loadAt = g.e.Start
		}
		g.load.decay(running, max(now-g.loadAt, 0))
		g.loadAt = now
		g.load.Running, g.load.Tasks = running, total
		return Loadavg(g.load), nil
	case "proc/diskstats":
		io, err := readIO(g.d)
		if err != nil {
			return "", err
		}
		host, err := v.host(file)
		return Diskstats(host, io), err
	}
	return "", fmt.Errorf("no such file %q", file)
}

// Summary says what guest name sees in its files, for `vmlite status`:
// "MemTotal 96.0 MiB, swap 0 B, 1 CPU (host CPUs 0)".
func (v *View) Summary(name string) (string, error) {
	v.refresh(false)
	v.mu.Lock()
	var g *served
	for _, x := range v.byRel {
		if x.e.Name == name {
			g = x
		}
	}
	v.mu.Unlock()
	if g == nil {
		return "", fmt.Errorf("guest %s is not registered with the /proc server", name)
	}
	host, err := v.host("proc/meminfo")
	if err != nil {
		return "", err
	}
	m, err := readMem(g.d)
	if err != nil {
		return "", err
	}
	c, err := readCPUs(g.d, v.hostOnline())
	if err != nil {
		return "", err
	}
	info := hostMeminfo(Meminfo(host, m))
	vis := c.Visible()
	cpus := make([]string, len(vis))
	for i, x := range vis {
		cpus[i] = strconv.Itoa(x)
	}
	plural := "s"
	if len(vis) == 1 {
		plural = ""
	}
	return fmt.Sprintf("MemTotal %s, SwapTotal %s, %d CPU%s (host CPU%s %s)",
		cgroup.FormatBytes(info["MemTotal"]*1024), cgroup.FormatBytes(info["SwapTotal"]*1024),
		len(vis), plural, plural, strings.Join(cpus, ",")), nil
}
