package procfs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"vmlite/cgroup"
	"vmlite/internal/runfile"
	"vmlite/plan"
)

// Layout is the server's directory in the runtime tree (state.Layout.Run):
//
//	RUN/procfs/lock          serialises starting the server, registering and the server's exit
//	RUN/procfs/server.lock   flock()ed by the running server for its whole life
//	RUN/procfs/guests/NAME   one guest served (JSON Entry), written by its supervisor
//	RUN/procfs/mnt/          the FUSE mount: Files for host processes (mnt/proc/meminfo, ...),
//	                         and mnt/guests/NAME/proc/meminfo, ... for each guest: its own inodes, bound over its files
type Layout struct {
	Dir string
	// Exe is the binary a server is started from (vmlite-procfs); ""
	// is this one, as `vmlite __procfs`.
	Exe string
}

// NewLayout returns the server's layout under the runtime tree runRoot.
func NewLayout(runRoot string) Layout { return Layout{Dir: filepath.Join(runRoot, "procfs")} }

// Lock is the host-wide lock of start, registration and exit.
func (l Layout) Lock() string { return filepath.Join(l.Dir, "lock") }

// ServerLock is held by the live server.
func (l Layout) ServerLock() string { return filepath.Join(l.Dir, "server.lock") }

// GuestsDir holds the registry.
func (l Layout) GuestsDir() string { return filepath.Join(l.Dir, "guests") }

// Mountpoint is where the server's filesystem is mounted.
func (l Layout) Mountpoint() string { return filepath.Join(l.Dir, "mnt") }

// GuestsDir holds a tree of Files per registered guest, by name.
const GuestsDir = "guests"

// GuestFiles is the directory of name's Files in the mount.
func (l Layout) GuestFiles(name string) string { return filepath.Join(l.Mountpoint(), GuestsDir, name) }

// Files are the guest paths served, relative to the mount and to the
// guest's root alike.
var Files = []string{
	"proc/meminfo", "proc/cpuinfo", "proc/stat", "proc/uptime", "proc/loadavg",
	"proc/swaps", "proc/diskstats", "sys/devices/system/cpu/online",
}

// Entry is one served guest, as its supervisor registers it.
type Entry struct {
	Name      string `json:"name"`
	Partition string `json:"partition"`
	CgroupDir string `json:"cgroupName"`
	// Start is CLOCK_BOOTTIME at the guest's (re)boot: its uptime starts there.
	Start time.Duration `json:"startBoottime"`
	// InitPID and InitStart (its start time in /proc/PID/stat) identify the
	// guest's init, whose mount namespace a restarted server binds its
	// files into again; 0 until init runs.
	InitPID   int    `json:"initPid,omitempty"`
	InitStart uint64 `json:"initStart,omitempty"`
}

// rel is the guest's cgroup path below a hierarchy's root.
func (e Entry) rel() (string, error) {
	return cgroup.RelPath(plan.Cgroup{Partition: e.Partition, Name: e.CgroupDir})
}

// Register records (or updates) e. Call it with Lock held when the server
// may have to be started.
func (l Layout) Register(e Entry) error {
	if _, err := e.rel(); err != nil {
		return err
	}
	if err := os.MkdirAll(l.GuestsDir(), 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return runfile.WriteRuntimeFile(filepath.Join(l.GuestsDir(), e.Name), b, 0o600)
}

// Unregister removes name's entry; the server exits when none is left.
func (l Layout) Unregister(name string) error {
	err := os.Remove(filepath.Join(l.GuestsDir(), name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Entries reads the registry; unreadable entries are skipped.
func (l Layout) Entries() ([]Entry, error) {
	ents, err := os.ReadDir(l.GuestsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, de := range ents {
		if e, ok := l.entry(de.Name()); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// entry reads name's entry; false when it is missing, unreadable, or in
// progress (a dot file).
func (l Layout) entry(name string) (Entry, bool) {
	if strings.HasPrefix(name, ".") {
		return Entry{}, false // a WriteRuntimeFile in progress
	}
	b, err := os.ReadFile(filepath.Join(l.GuestsDir(), name))
	if err != nil {
		return Entry{}, false
	}
	var e Entry
	if json.Unmarshal(b, &e) != nil || e.Name != name {
		return Entry{}, false
	}
	return e, true
}

// ParseProcCgroup returns the cgroup path in /proc/PID/cgroup content that
// places the process: the v2 line ("0::/path") on a v2 host, the memory
// hierarchy's line on v1. The paths are relative to the reader's cgroup
// namespace: the server runs in the host's, so they are absolute.
func ParseProcCgroup(s string, mode cgroup.Mode) (string, error) {
	for line := range strings.Lines(s) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			continue
		}
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			return "", fmt.Errorf("malformed cgroup line %q", line)
		}
		ctrls, path, ok := strings.Cut(rest, ":")
		if !ok || !strings.HasPrefix(path, "/") {
			return "", fmt.Errorf("malformed cgroup line %q", line)
		}
		if mode == cgroup.V2 && id == "0" && ctrls == "" {
			return path, nil
		}
		if mode == cgroup.V1 {
			for c := range strings.SplitSeq(ctrls, ",") {
				if c == "memory" {
					return path, nil
				}
			}
		}
	}
	return "", fmt.Errorf("no %s cgroup line", mode)
}

// match finds the registered guest whose cgroup holds path: the guest's
// own directory or one of its children (a systemd guest's services).
func match(byRel map[string]*served, path string) *served {
	p := strings.TrimPrefix(filepath.Clean(path), "/")
	for p != "" && p != "." {
		if g, ok := byRel[p]; ok {
			return g
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return nil
}
