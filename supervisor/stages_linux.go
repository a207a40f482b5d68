package supervisor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/initsys"
	"vmlite/plan"
)

// A shared supervisor keeps a few guest init stages (vmlite-init, the
// __init role) pre-forked: cloned in fresh pid, uts, ipc and net
// namespaces, their Go runtime started, waiting on their sync socket. A start then takes one instead
// of cloning and exec'ing a Go program, which is most of what a start
// into a running supervisor costs (bench/README.md, "Pre-forked init
// stages"). The guarantees of a cloned stage hold for a taken one:
//
//   - a stage serves one guest and is never given back: taken, it is the
//     guest's __init, and the boot's undo kills it like a cloned one;
//   - a stage is in no guest's cgroup until taken (its spare, below, is
//     nobody's until renamed); the guest's cgroup is joined, and the
//     cgroup namespace made, before the guest's init is exec'd, as for a
//     cloned stage;
//   - its mount namespace is made when it is taken (plan/sync.go,
//     MsgAdopt), a copy of the host's as it is then;
//   - a mapped guest takes none (poolable): its user namespace is owned
//     by its root's host uid, known only once the guest is;
//   - waiting stages die with the supervisor (parent-death signal, and
//     killed and reaped when it ends); one killed while waiting is reaped
//     and forgotten, and a start that finds none clones one as before.
//
// The pool holds at most max stages (VMLITE_INIT_STAGES), of the kind
// (the cgroup partition) the last start that could take one wanted,
// refilled after each start from the second on: a supervisor that only
// ever hosts its first guest keeps none.
//
// On a cgroup v1 host each stage waits in a spare cgroup of its own
// (cgroup/spare_linux.go), made in the last start's partition; a start
// renames it to the guest's instead of making the guest's cgroup and
// moving its init into each hierarchy. The stage gets it with
// plan.MsgWarm, joins it itself (cgroup.JoinSelf), enters its cgroup
// namespace there and premounts the v1 hierarchies for the guest's
// /sys/fs/cgroup. A spare
// goes with its stage: removed when the stage is dropped, dies or the
// pool closes; a killed supervisor's spares are swept by the next pool
// that makes one, and by the clean-up of its orphaned guests.

// stage is one pre-forked, waiting __init.
type stage struct {
	cmd    *exec.Cmd
	sync   *os.File      // the supervisor's end of the sync socket
	exited chan struct{} // closed once the stage is reaped
	taken  chan struct{} // closed when a guest takes it
	kind   stageKind
	// spare is the spare cgroup the stage waits in (nil: none, v2 hosts),
	// until a guest takes it (Supervisor.takeSpare).
	spare cgroup.Manager
}

// stageKind is what a start needs of a stage: a user namespace or not,
// and its spare cgroup's partition.
type stageKind struct {
	mapped    bool
	partition string
}

// kindOf is the stage kind p needs.
func kindOf(p *plan.Plan) stageKind {
	return stageKind{mapped: p.IDMap.Enabled(), partition: p.Cgroup.Partition}
}

// kill ends a stage that will serve nobody and waits until it is reaped,
// then removes its spare cgroup.
func (st *stage) kill() {
	_ = st.cmd.Process.Signal(syscall.SIGKILL)
	st.sync.Close()
	select {
	case <-st.exited:
	case <-time.After(10 * time.Second):
	}
	if st.spare != nil {
		// Kill: whatever the stage may have forked goes too (nothing should).
		if err := errors.Join(st.spare.Kill(), st.spare.Destroy()); err != nil {
			fmt.Fprintf(os.Stderr, "remove spare cgroup of init stage %d: %v\n", st.cmd.Process.Pid, err)
		}
		st.spare = nil
	}
}

// stagePool is a supervisor process's waiting stages.
type stagePool struct {
	max int

	mu      sync.Mutex // mu guards the fields below
	waiting []*stage
	kind    stageKind // the kind the last start wanted
	// instance is the state root's instance (the ID in plan.CgroupName)
	// that names this pool's spare cgroups.
	instance string
	closed   bool
	filling  bool
	// spares counts the spare cgroups made, for their names; swept is set
	// once the spares of killed supervisors were swept.
	spares int
	swept  bool
	// takes counts the starts that asked for a stage.
	takes int
}

func newStagePool(max int) *stagePool {
	return &stagePool{max: max}
}

// poolable reports whether p's __init can be a pre-forked stage: one that
// shares none of another's namespaces (those are joined at clone time),
// and an unmapped one. A mapped guest's user namespace must be owned by
// its root's host uid (nsowner_linux.go), which a stage, cloned before
// its guest is known, cannot be: in a root-owned one the guest would
// share root's per-user limits (fs.inotify.max_user_instances) again.
func poolable(p *plan.Plan) bool { return len(p.Share) == 0 && !p.IDMap.Enabled() }

// take returns a waiting stage of the kind p needs, or nil. Either way
// the pool then refills, for p's kind, in the background.
func (sp *stagePool) take(p *plan.Plan) *stage {
	if sp == nil || sp.max <= 0 || !poolable(p) {
		return nil
	}
	kind := kindOf(p)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.takes++
	sp.kind = kind
	if i := strings.LastIndexByte(p.Cgroup.Name, '.'); i >= 0 {
		sp.instance = p.Cgroup.Name[i+1:]
	}
	for i, st := range sp.waiting {
		if st.kind != kind {
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
	if sp.filling || sp.closed || sp.takes < 2 {
		// takes < 2: no guest has joined this supervisor yet. One that
		// only ever hosts its first guest keeps no stage (a vmlite-init
		// process and a spare cgroup that no start would take).
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
		kind, n := sp.kind, 0
		var other *stage
		for _, st := range sp.waiting {
			if st.kind == kind {
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
		var st *stage
		var err error
		onForkThread(func() { st, err = forkStage(exe(), kind) })
		if err != nil {
			return // tried again after the next start; the start clones meanwhile
		}
		if err := sp.warm(st); err != nil {
			fmt.Fprintf(os.Stderr, "init stage %d: %v\n", st.cmd.Process.Pid, err)
			st.kill()
			return
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

// warm puts a new stage in a spare cgroup of its own where the host has
// hierarchies that can rename one (v1), and has it do its
// guest-independent set-up (plan.MsgWarm).
func (sp *stagePool) warm(st *stage) error {
	spare, err := sp.newSpare(st.kind.partition)
	if err != nil {
		return err
	}
	msg := plan.WarmMessage(spare != nil)
	var tasks []int
	if spare != nil {
		st.spare = spare // kill removes it from here on
		if err := cgroup.CreateSpare(spare); err != nil {
			st.spare = nil
			return fmt.Errorf("create spare cgroup: %w", err)
		}
		// The stage joins it itself, as a cloned __init joins its guest's
		// (cgroup/selfjoin_linux.go): a spare has no cgroup2 tree.
		t, _, err := cgroup.SelfJoin(spare)
		if err != nil {
			return fmt.Errorf("join spare cgroup: %w", err)
		}
		tasks = t
		defer closeFDs(tasks)
		for i := range tasks {
			msg.JoinFDs = append(msg.JoinFDs, i)
		}
	}
	if err := plan.Send(st.sync, msg, tasks...); err != nil {
		return fmt.Errorf("warm: %w", err)
	}
	return nil
}

// newSpare returns the manager of a new spare cgroup in partition (none
// made yet), or nil where spares cannot be renamed (v2) or the pool
// knows no instance. The first one sweeps killed supervisors' spares.
func (sp *stagePool) newSpare(partition string) (cgroup.Manager, error) {
	sp.mu.Lock()
	instance, n, sweep := sp.instance, sp.spares, !sp.swept
	sp.spares++
	sp.swept = true
	sp.mu.Unlock()
	if instance == "" {
		return nil, nil
	}
	mode, err := hostCgroupMode()
	if err != nil {
		return nil, err
	}
	if sweep {
		if err := cgroup.SweepSpares(cgroup.DefaultRoot, mode, partition, instance); err != nil {
			fmt.Fprintf(os.Stderr, "sweep spare cgroups: %v\n", err)
		}
	}
	return cgroup.NewSpare(cgroup.DefaultRoot, mode, partition, cgroup.SpareName(instance, os.Getpid(), n))
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
			go st.kill() // reaped already: closes its socket, removes its spare
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
func forkStage(exe string, kind stageKind) (*stage, error) {
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
	if kind.mapped {
		cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWUSER
		cmd.SysProcAttr.AmbientCaps = allCaps()
	}
	if err := cmd.Start(); err != nil {
		parent.Close()
		return nil, err
	}
	// A stage is made right after a start, while that guest boots: its Go
	// start-up and warm-up yield to the guest (the thread that will exec
	// the guest's init gets the supervisor's priority back when taken).
	_ = unix.Setpriority(unix.PRIO_PROCESS, cmd.Process.Pid, stageNice)
	st := &stage{cmd: cmd, sync: parent, exited: make(chan struct{}), taken: make(chan struct{}), kind: kind}
	go func() {
		awaitExit(cmd.Process.Pid)
		_ = cmd.Wait()
		close(st.exited)
	}()
	return st, nil
}

// A stage's parent-death signal fires when the thread that forked it
// ends, not the process (prctl(2), PR_SET_PDEATHSIG). The Go runtime
// ends a thread whose goroutine exits locked to it, as startAsOwner's
// does after cloning a mapped guest, and any goroutine may run on a
// thread that once forked a stage: a mapped start then killed the
// waiting stages forked there. Stages are forked from one thread that
// never ends.
var forkThread struct {
	once sync.Once
	do   chan func()
}

// onForkThread runs fn on the stage-forking thread and waits for it.
func onForkThread(fn func()) {
	forkThread.once.Do(func() {
		forkThread.do = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread never ends
			for f := range forkThread.do {
				f()
			}
		}()
	})
	done := make(chan struct{})
	forkThread.do <- func() { defer close(done); fn() }
	<-done
}

// stageNice is a waiting stage's nice value.
const stageNice = 19

// restorePriority gives a taken stage's main thread (the one that execs
// the guest's init) the supervisor's own priority, which a cloned __init
// inherits.
func restorePriority(pid int) error {
	// The raw syscall's value is 20 - nice.
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return err
	}
	return unix.Setpriority(unix.PRIO_PROCESS, pid, 20-prio)
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
