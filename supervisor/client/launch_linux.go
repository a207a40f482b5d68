package client

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"vmlite/image/layer"
	"vmlite/internal/binfile"
	"vmlite/internal/supervisorbin"
	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor"
	"vmlite/supervisor/ctl"
)

// LaunchOptions choose how a guest is supervised.
type LaunchOptions struct {
	// RunDir holds the shared supervisors' socket and lock (state.Layout.Run).
	RunDir string
	// GuestsPerSupervisor is how many guests one supervisor process may
	// host; 1 gives every guest a dedicated supervisor.
	GuestsPerSupervisor int
	// InitStages is how many pre-forked guest init stages a new shared
	// supervisor keeps waiting (0: none).
	InitStages int
}

// Launch hands p, encoded as b (launch.Prepared.JSON), to a supervisor and
// waits for its start report: to a running shared supervisor with room, or
// to a new one. lock is the
// guest's lock file, already held by the caller; it passes to the
// supervisor (and is closed here). On failure the supervisor has rolled
// everything back before it reports.
func Launch(p *plan.Plan, b json.RawMessage, lock *os.File, o LaunchOptions) (plan.StartResult, error) {
	defer lock.Close()
	res, taken, err := launch(p, b, lock, o)
	if err != nil && !taken {
		// No supervisor ever had the guest: its runtime directory (made
		// for the lock) and the layer of a first start from an image
		// (launch.Prepare made both) are ours to remove, while we still
		// hold the lock.
		_ = os.RemoveAll(p.Paths.RunDir)
		if ov := p.Rootfs.Overlay; ov != nil && ov.Fresh {
			_ = layer.Remove(ov.LayerDir)
		}
	}
	return res, err
}

// launch does Launch's work; taken reports whether a supervisor may have
// taken the guest (and so cleans up after it).
func launch(p *plan.Plan, b json.RawMessage, lock *os.File, o LaunchOptions) (res plan.StartResult, taken bool, err error) {
	if o.GuestsPerSupervisor <= 1 || o.RunDir == "" {
		return spawn(p, b, lock, nil, nil)
	}
	prefix, err := poolPrefix(o.RunDir)
	if err != nil {
		return res, false, err
	}
	if res, handed, err := ctl.OfferToPools(prefix, b, lock, nil); handed || err != nil {
		return res, handed, err
	}
	// Every pool is full (or there is none): start one, one start at a
	// time; a pool started meanwhile by another start is tried first.
	plock, err := state.Lock(filepath.Join(o.RunDir, poolLockName))
	if err != nil {
		return res, false, err
	}
	defer plock.Close()
	// The lock goes as soon as a pool has taken the guest, not after its
	// boot: every start queued on it behind a new pool would otherwise
	// boot one after another (200 guests launched at once waited for each
	// other's whole start).
	if res, handed, err := ctl.OfferToPools(prefix, b, lock, func() { plock.Close() }); handed || err != nil {
		return res, handed, err
	}
	// Named after this process, unique among live ones; a file of that
	// name is a dead pool's (pid reuse).
	sock := prefix + strconv.FormatInt(int64(os.Getpid()), 36) + ".sock"
	if len(sock)+len(".new") >= maxSocketPath {
		// A state root too deep for a socket path: a dedicated supervisor
		// needs none.
		return spawn(p, b, lock, nil, nil)
	}
	// Bound and listening under another name first, then renamed into
	// place: between bind and listen a connect is refused, and a start
	// offering its guest meanwhile (offerToPools, outside the pool lock)
	// takes a refused socket for a dead pool's and removes it.
	tmp := sock + ".new"
	_ = os.Remove(sock)
	_ = os.Remove(tmp)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return res, false, fmt.Errorf("supervisor socket: %w", err)
	}
	l.SetUnlinkOnClose(false) // the pool owns the path from now on
	if err := os.Chmod(tmp, 0o600); err != nil {
		l.Close()
		_ = os.Remove(tmp)
		return res, false, fmt.Errorf("supervisor socket: %w", err)
	}
	if err := os.Rename(tmp, sock); err != nil {
		l.Close()
		_ = os.Remove(tmp)
		return res, false, fmt.Errorf("supervisor socket: %w", err)
	}
	lf, err := l.File()
	l.Close()
	if err != nil {
		_ = os.Remove(sock)
		return res, false, fmt.Errorf("supervisor socket: %w", err)
	}
	defer lf.Close()
	args := []string{"--pool-socket", sock, "--max-guests", strconv.Itoa(o.GuestsPerSupervisor), "--init-stages", strconv.Itoa(o.InitStages)}
	res, taken, err = spawn(p, b, lock, lf, func() {
		// The new pool's socket exists and queues requests: other starts
		// may go to it while this one still boots.
		lf.Close()
		plock.Close()
	}, args...)
	if err != nil && !taken {
		_ = os.Remove(sock) // the pool never ran
	}
	return res, taken, err
}

// poolLockName is the host-wide lock of starting pools.
const poolLockName = "supervisors.lock"

// poolPrefix is the path prefix of the pools' sockets, named after the
// running binary, so that a CLI never hands a plan to a supervisor of
// another vmlite build (an upgrade, a test binary beside an installed one).
func poolPrefix(runDir string) (string, error) {
	id, err := binfile.ID()
	if err != nil {
		return "", err
	}
	return ctl.PoolPrefix(runDir, id), nil
}

// maxSocketPath is the room in sockaddr_un's sun_path, NUL included.
const maxSocketPath = 108

// spawn starts a supervisor process for p (plan bytes b). pool, when not
// nil, is the listening socket of a new shared supervisor (fd 6); started
// runs once the process exists.
// taken is true once the process exists (it has the guest's lock).
func spawn(p *plan.Plan, b []byte, lock, pool *os.File, started func(), args ...string) (res plan.StartResult, taken bool, err error) {
	exe, note, err := supervisorExecutable(p)
	if err != nil {
		return res, false, err
	}
	planR, planW, err := os.Pipe()
	if err != nil {
		return res, false, fmt.Errorf("plan pipe: %w", err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		planR.Close()
		planW.Close()
		return res, false, fmt.Errorf("status pipe: %w", err)
	}
	// A dedicated supervisor's stderr is its guest's log; a shared one's
	// (Go runtime messages, panics) goes to supervisors.log beside them.
	logPath := p.Paths.SupervisorLog
	if pool != nil {
		logPath = filepath.Join(filepath.Dir(logPath), "supervisors.log")
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return res, false, fmt.Errorf("open supervisor log: %w", err)
	}
	defer logf.Close()
	if note != "" {
		_, _ = logf.WriteString(note)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return res, false, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devnull.Close()
	// Fd numbers are fixed in plan/fds.go.
	extra := []*os.File{planR, statusW, lock}
	if pool != nil {
		extra = append(extra, pool)
	}
	cmd := &exec.Cmd{
		Path:       exe,
		Args:       supervisorArgs(p.Name, pool != nil, args),
		Env:        []string{"PATH=" + plan.DefaultPath},
		Dir:        "/",
		Stdin:      devnull,
		Stdout:     logf,
		Stderr:     logf,
		ExtraFiles: extra,
		// Detached: its own session, no controlling terminal, so the
		// user's logout or ^C does not reach it.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	planR.Close()
	statusW.Close()
	if err != nil {
		planW.Close()
		statusR.Close()
		return res, false, fmt.Errorf("start supervisor: %w", err)
	}
	if started != nil {
		started()
	}
	// Reap the supervisor only if it dies before reporting; after a report
	// it outlives us and is re-parented.
	_, err = planW.Write(b)
	planW.Close()
	if err != nil {
		statusR.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return res, true, fmt.Errorf("send launch plan: %w", err)
	}
	res, err = readResult(statusR)
	statusR.Close()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return res, true, fmt.Errorf("supervisor gave no start report (see %s): %w", logPath, err)
	}
	if !res.OK && pool == nil {
		_ = cmd.Wait() // a dedicated supervisor exits right after a failed report
	} else {
		_ = cmd.Process.Release()
	}
	return res, true, nil
}

// supervisorExecutable is what a supervisor runs: the small embedded
// vmlite-supervisor (cmd/vmlite-supervisor: a supervisor maps its own
// binary for as long as its guests run, and runs the initialisers of what
// it links on every start; bench/README.md, "The supervisor's own
// binary"), written once per vmlite build into InitBinDir beside
// vmlite-init, or this binary itself (`vmlite __supervise`) when the
// build embeds none or the file cannot be written.
func supervisorExecutable(p *plan.Plan) (path, note string, err error) {
	if size, dir := supervisorbin.Size(), p.Paths.InitBinDir; size > 0 && dir != "" {
		err := os.MkdirAll(dir, 0o755)
		if err == nil {
			if path, err = binfile.WriteOut(dir, "supervisor-", size, supervisorbin.WriteTo); err == nil {
				return path, "", nil
			}
		}
		note = fmt.Sprintf("vmlite start: write out vmlite-supervisor in %s: %v: the supervisor runs from vmlite itself\n", dir, err)
	}
	self, err := os.Executable()
	if err != nil {
		return "", "", fmt.Errorf("find vmlite binary: %w", err)
	}
	return self, note, nil
}

// supervisorArgs is the supervisor's argv: a dedicated one names its guest
// (for ps); a shared one's first guest is only one of many.
func supervisorArgs(name string, shared bool, flags []string) []string {
	if !shared {
		return []string{"vmlite", supervisor.Role, name}
	}
	return append([]string{"vmlite", supervisor.Role}, flags...)
}

func readResult(f *os.File) (plan.StartResult, error) {
	_ = f.SetReadDeadline(time.Now().Add(ctl.StartWait))
	return ctl.DecodeResult(bufio.NewReader(f))
}
