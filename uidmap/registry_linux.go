package uidmap

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"vmlite/plan"
	"vmlite/state"
)

// HostDir is the host-wide record of the host ids that running guests map,
// whatever state root (--root) started them: one file per guest, and the
// lock that serialises every start's check. A fixed path, not the layout's,
// because two roots on one host share one id space. Tests point it at a
// temporary directory.
var HostDir = "/run/vmlite-idmap"

// record is one running guest's entry in HostDir. It is live while the
// guest's lock (Lock, its supervisor's flock) is held: a start that failed
// or a guest that stopped leaves a stale record, which the next check
// removes.
type record struct {
	Name    string     `json:"name"`
	RunRoot string     `json:"runRoot"`
	Lock    string     `json:"lock"`
	IDMap   plan.IDMap `json:"idmap"`
}

// recordFile names the record of guest name under the layout l.
func recordFile(l state.Layout, name string) string {
	return filepath.Join(hostDir(), l.InstanceID()+"."+name+".json")
}

// hostDirEnv moves HostDir for a test suite that must not see (nor be seen
// by) the host's guests; only root can use it, and root could edit the
// records anyway.
const hostDirEnv = "VMLITE_IDMAP_DIR"

func hostDir() string {
	if d := os.Getenv(hostDirEnv); d != "" {
		return d
	}
	return HostDir
}

// lockHost takes the host-wide idmap lock.
func lockHost() (*os.File, error) {
	if err := os.MkdirAll(hostDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", hostDir(), err)
	}
	return state.Lock(filepath.Join(hostDir(), "lock"))
}

// hostRecords reads the live records of every root, removing stale ones.
// Call it with the host lock held.
func hostRecords() ([]Guest, error) {
	ents, err := os.ReadDir(hostDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", hostDir(), err)
	}
	var out []Guest
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(hostDir(), e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		var r record
		if err := json.Unmarshal(b, &r); err != nil || r.Lock == "" {
			_ = os.Remove(p) // torn by a crash mid-write: its guest's start failed
			continue
		}
		held, err := state.Held(r.Lock)
		if err != nil || !held {
			_ = os.Remove(p)
			continue
		}
		out = append(out, Guest{Name: r.Name, Root: r.RunRoot, IDMap: r.IDMap})
	}
	return out, nil
}

// writeRecord records p's ids host-wide; the caller holds the host lock
// and p's guest lock.
func writeRecord(l state.Layout, p *plan.Plan) error {
	b, err := json.Marshal(record{Name: p.Name, RunRoot: l.Run, Lock: l.LockFile(p.Name), IDMap: p.IDMap})
	if err != nil {
		return err
	}
	return state.WriteRuntimeFile(recordFile(l, p.Name), b, 0o600)
}

// AllRunningMaps returns the running guests of every state root on the
// host: HostDir's records, and l's guests from their plans (those started
// before the host-wide record existed). Call it with the host lock held.
func AllRunningMaps(l state.Layout) ([]Guest, error) {
	out, err := hostRecords()
	if err != nil {
		return nil, err
	}
	own, err := RunningMaps(l)
	if err != nil {
		return nil, err
	}
	seen := map[[2]string]bool{}
	for _, g := range out {
		seen[[2]string{g.Root, g.Name}] = true
	}
	for _, g := range own {
		if !seen[[2]string{g.Root, g.Name}] {
			out = append(out, g)
		}
	}
	return out, nil
}
