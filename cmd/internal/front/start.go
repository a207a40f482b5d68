package front

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/launch"
	"vmlite/supervisor/ctl"
)

// CoreIsSelf is set by the full binary (cmd/vmlite), which runs Run
// first too: the supervisors it hands guests to are its own. In the
// front binary they are vmlite-core's (Core).
var CoreIsSelf bool

// IsFileArg tells a start's file argument from a guest name: a path
// separator or an .xml suffix means a file.
func IsFileArg(arg string) bool {
	return strings.ContainsRune(arg, '/') || strings.HasSuffix(arg, ".xml")
}

// runStart is `vmlite start FILE` (and `create FILE`), or `vmlite start
// NAME` of a defined guest, into a running shared supervisor: the XML
// parsed, the plan built and the guest's lock
// taken here (domain.Parse, launch.Prepare, as the service does), then
// both handed to a pool that takes it (ctl.OfferToPools). That is the
// whole start when a pool has room, and it costs this small binary's
// start instead of the full one's (bench/README.md, "start in the
// front"). Everything that is not that common case goes to the full CLI
// before anything is changed: --console, an environment that asks for
// dedicated supervisors or is malformed, a file (or definition) that is
// missing, does not parse or warns, a guest on a managed network or from
// an image, a dead supervisor's state to clean up, any error of
// Prepare (its message is the full CLI's to give), and a start that no
// running pool takes (the full CLI starts one). Prepare's failures leave
// nothing behind, so the full CLI finds what the front found.
func runStart(c cmdline, stdout, stderr io.Writer) (int, bool) {
	file := IsFileArg(c.name)
	if len(c.flags) > 0 || !file && !plainName(c.name) {
		return 0, false
	}
	if per, err := launch.GuestsPerSupervisor(); err != nil || per <= 1 {
		return 0, false
	}
	if _, err := launch.InitStages(); err != nil {
		return 0, false
	}
	l := c.layout()
	// No pool of this build listens: the full CLI starts one, and this
	// start would parse and plan for nothing.
	core := "/proc/self/exe"
	if !CoreIsSelf {
		var err error
		if core, err = Core(); err != nil {
			return 0, false
		}
	}
	id, err := ctl.BinaryIDOf(core)
	if err != nil {
		return 0, false
	}
	prefix := ctl.PoolPrefix(l.Run, id)
	if socks, _ := filepath.Glob(prefix + "*.sock"); len(socks) == 0 {
		return 0, false
	}
	var (
		d     *domain.Domain
		warns []domain.Warning
	)
	if file {
		data, rerr := os.ReadFile(c.name)
		if rerr != nil {
			return 0, false
		}
		d, warns, err = domain.Parse(c.name, data)
		if err != nil {
			return 0, false
		}
	} else {
		if d, warns, err = domain.ParseFile(l.DomainFile(c.name)); err != nil {
			return 0, false // not defined, or not valid: the full CLI says so
		}
	}
	if len(warns) > 0 {
		return 0, false
	}
	prep, err := launch.Prepare(d, launch.Options{Layout: l, Transient: file})
	if err != nil {
		return 0, false
	}
	res, handed, err := ctl.OfferToPools(prefix, prep.JSON, prep.Lock, nil)
	if !handed && err == nil {
		prep.Release()
		return 0, false
	}
	// The pool has the guest's lock now (or may have: never a second
	// try); this process's descriptor of it goes, as client.Launch's does.
	prep.Lock.Close()
	prep.Launched()
	p := prep.Plan
	if err == nil {
		if f := res.Err(); f != nil {
			err = f.Reported(p.Source, p.Paths.SupervisorLog)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "vmlite: %v\n", err)
		if errdefs.IsUserError(err) {
			return 2, true // the full CLI's ExitUser
		}
		return 1, true
	}
	fmt.Fprintln(stdout, Started(p.Name, res.InitPID))
	return 0, true
}

// Started is what `vmlite start` prints for a guest whose init runs.
func Started(name string, initPID int) string {
	return fmt.Sprintf("Guest %s started (init pid %d)", name, initPID)
}
