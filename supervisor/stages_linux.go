package supervisor

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/initsys"
	"vmlite/plan"
)

// A shared supervisor keeps a few guest init stages (vmlite-init, the
// __init role) pre-forked: cloned in fresh pid, uts, ipc and net
// namespaces (and a user namespace for mapped guests), their Go runtime
// started, waiting on their sync socket. A start then takes one instead
// of cloning and exec'ing a Go program, which is most of what a start
// into a running supervisor costs (bench/README.md, "Pre-forked init
// stages"). The guarantees of a cloned stage hold for a taken one:
//
//   - a stage serves one guest and is never given back: taken, it is the
//     guest's __init, and the boot's undo kills it like a cloned one;
//   - a stage is in no guest's cgroup until taken; the guest's cgroup is
//     joined, and the cgroup namespace made, before the guest's init is
//     exec'd, as for a cloned stage;
//   - its mount namespace is made when it is taken (plan/sync.go,
//     MsgAdopt), a copy of the host's as it is then;
//   - a mapped guest's stage gets the guest's uid and gid maps when taken,
//     and becomes the guest's root only then (initsys/adopt_linux.go);
//   - waiting stages die with the supervisor (parent-death signal, and
//     killed and reaped when it ends); one killed while waiting is reaped
//     and forgotten, and a start that finds none clones one as before.
//
// The pool holds at most max stages (VMLITE_INIT_STAGES, 0: none), of the
// kind (mapped or not) the last start wanted, refilled after each start.

// stage is one pre-forked, waiting __init.
type stage struct {
	cmd    *exec.Cmd
	sync   *os.File      // the supervisor's end of the sync socket
	exited chan struct{} // closed once the stage is reaped
	taken  chan struct{} // closed when a guest takes it
	mapped bool          // cloned into a user namespace of its own
}

// kill ends a stage that will serve nobody and waits until it is reaped.
func (st *stage) kill() {
	_ = st.cmd.Process.Signal(syscall.SIGKILL)
	st.sync.Close()
	select {
	case <-st.exited:
	case <-time.After(10 * time.Second):
	}
}

// stagePool is a supervisor process's waiting stages.
type stagePool struct {
	max int

	mu      sync.Mutex // mu guards the fields below
	waiting []*stage
	mapped  bool // the kind the last start wanted
	closed  bool
	filling bool
}

func newStagePool(max int) *stagePool {
	return &stagePool{max: max}
}

// poolable reports whether p's __init can be a pre-forked stage: one that
// shares none of another's namespaces (those are joined at clone time).
func poolable(p *plan.Plan) bool { return len(p.Share) == 0 }

// take returns a waiting stage of the kind p needs, or nil. Either way
// the pool then refills, for p's kind, in the background.
func (sp *stagePool) take(p *plan.Plan) *stage {
	if sp == nil || sp.max <= 0 || !poolable(p) {
		return nil
	}
	mapped := p.IDMap.Enabled()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.mapped = mapped
	for i, st := range sp.waiting {
		if st.mapped != mapped {
			continue
		}
		select {
		case <-st.exited:
			continue // died while waiting; its watcher drops it
		default:
		}
		sp.waiting = append(sp.waiting[:i], sp.waiting[i+1:]...)
		close(st.taken)
		return st
	}
	return nil
}

// refill brings the pool back to max stages of the last start's kind,
// dropping stages of the other kind to make room. It runs after a start,
// off its path; one refill at a time. exe names the binary to clone
// (Supervisor.initExecutable).
func (sp *stagePool) refill(exe func() string) {
	if sp == nil || sp.max <= 0 {
		return
	}
	sp.mu.Lock()
	if sp.filling || sp.closed {
		sp.mu.Unlock()
		return
	}
	sp.filling = true
	sp.mu.Unlock()
	defer func() {
		sp.mu.Lock()
		sp.filling = false
		sp.mu.Unlock()
	}()
	for {
		sp.mu.Lock()
		if sp.closed {
			sp.mu.Unlock()
			return
		}
		mapped, n := sp.mapped, 0
		var other *stage
		for _, st := range sp.waiting {
			if st.mapped == mapped {
				n++
			} else if other == nil {
				other = st
			}
		}
		if n >= sp.max {
			sp.mu.Unlock()
			return
		}
		if len(sp.waiting) >= sp.max {
			// Full of the other kind (n < max): make room first.
			sp.dropLocked(other)
			sp.mu.Unlock()
			continue
		}
		sp.mu.Unlock()
		st, err := forkStage(exe(), mapped)
		if err != nil {
			return // tried again after the next start; the start clones meanwhile
		}
		sp.mu.Lock()
		if sp.closed {
			sp.mu.Unlock()
			st.kill()
			return
		}
		sp.waiting = append(sp.waiting, st)
		sp.mu.Unlock()
		go sp.forgetWhenDead(st)
	}
}

// dropLocked removes st from the pool and kills it; mu must be held.
func (sp *stagePool) dropLocked(st *stage) {
	for i, w := range sp.waiting {
		if w == st {
			sp.waiting = append(sp.waiting[:i], sp.waiting[i+1:]...)
			break
		}
	}
	go st.kill()
}

// forgetWhenDead drops st from the pool if it dies while waiting.
func (sp *stagePool) forgetWhenDead(st *stage) {
	select {
	case <-st.exited:
	case <-st.taken:
		return // the guest's now: its boot watches it
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for i, w := range sp.waiting {
		if w == st {
			sp.waiting = append(sp.waiting[:i], sp.waiting[i+1:]...)
			st.sync.Close()
			return
		}
	}
}

// close kills and reaps every waiting stage; the pool takes no more.
func (sp *stagePool) close() {
	if sp == nil {
		return
	}
	sp.mu.Lock()
	sp.closed = true
	waiting := sp.waiting
	sp.waiting = nil
	sp.mu.Unlock()
	for _, st := range waiting {
		st.kill()
	}
}

// forkStage clones a stage from exe in new namespaces: those of
// initCommand but the mount namespace (made when taken) and, for a mapped
// guest, a user namespace without maps yet. Its capabilities there survive
// the exec as ambient ones, since it runs as an unmapped user until taken.
func forkStage(exe string, mapped bool) (*stage, error) {
	parent, child, err := plan.SocketPair()
	if err != nil {
		return nil, err
	}
	defer child.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		parent.Close()
		return nil, err
	}
	defer devnull.Close()
	cmd := &exec.Cmd{
		Path:       exe,
		Args:       []string{"vmlite", initsys.Role},
		Env:        []string{},
		Dir:        "/",
		Stdin:      devnull,
		Stdout:     devnull,
		Stderr:     devnull,
		ExtraFiles: []*os.File{child},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID | unix.CLONE_NEWNET,
			Setsid:     true,
			// A waiting stage never outlives the supervisor, even a killed
			// one; taken, it clears this itself.
			Pdeathsig: syscall.SIGKILL,
		},
	}
	if mapped {
		cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWUSER
		cmd.SysProcAttr.AmbientCaps = allCaps()
	}
	if err := cmd.Start(); err != nil {
		parent.Close()
		return nil, err
	}
	st := &stage{cmd: cmd, sync: parent, exited: make(chan struct{}), taken: make(chan struct{}), mapped: mapped}
	go func() {
		awaitExit(cmd.Process.Pid)
		_ = cmd.Wait()
		close(st.exited)
	}()
	return st, nil
}

// allCaps lists every capability the running kernel knows.
func allCaps() []uintptr {
	last := 40 // CAP_CHECKPOINT_RESTORE, kernel 5.9
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			last = n
		}
	}
	out := make([]uintptr, 0, last+1)
	for c := 0; c <= last; c++ {
		out = append(out, uintptr(c))
	}
	return out
}

// writeIDMaps gives a taken mapped stage the guest's maps; setgroups is
// allowed, as for a cloned stage (initCommand).
func writeIDMaps(pid int, p *plan.Plan) error {
	proc := "/proc/" + strconv.Itoa(pid)
	if err := os.WriteFile(proc+"/uid_map", idMapText(p.IDMap.UIDs), 0); err != nil {
		return err
	}
	if err := os.WriteFile(proc+"/setgroups", []byte("allow"), 0); err != nil {
		return err
	}
	return os.WriteFile(proc+"/gid_map", idMapText(p.IDMap.GIDs), 0)
}

func idMapText(rs []plan.IDRange) []byte {
	var b []byte
	for _, r := range rs {
		b = fmt.Appendf(b, "%d %d %d\n", r.Start, r.Target, r.Count)
	}
	return b
}
