package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"vmlite/cgroup"
	"vmlite/internal/revert"
	"vmlite/plan"
	"vmlite/state"
)

// Supervisor supervises one guest. Its methods are called from the main
// goroutine and the control socket's goroutines; mu guards the run state.
type Supervisor struct {
	// p is the guest's plan, never replaced: the control socket's
	// goroutines read it without hotMu. Under hotMu, a device change sets
	// its Devices, Interfaces and DomainXML (recordPlan) and a boot may
	// clear Paths.ProcFS (no /proc server); only boots, under hotMu too,
	// read those. The rest stays as received.
	p *plan.Plan
	// planJSON is p as received, passed on as is (plan.json, __init).
	planJSON json.RawMessage
	// log is the guest's own diagnostics log (its SupervisorLog file): a
	// shared supervisor writes each guest's lines to that guest's file.
	log *log.Logger
	// trace gets what every start says (its phases' times): the
	// supervisor's stderr, which is the guest's log for a dedicated
	// supervisor and supervisors.log for a shared one, so that a guest
	// with nothing else to report has no log file of its own (guestLog).
	trace *log.Logger
	// lock is the guest's lock file, held until the guest is torn down.
	lock *os.File
	// stages are the process's pre-forked __init stages; nil: none.
	stages *stagePool

	// treeMu guards treeLocks: the shift locks of the trees the guest uses.
	treeMu    sync.Mutex
	treeLocks map[string]*os.File

	hostRevert *revert.Reverter
	bootRevert *revert.Reverter
	// afterKill runs, last first, once a boot's processes are all dead
	// (images: an nbd disconnect, a qemu-storage-daemon stopped, the image
	// lock); reset by each boot.
	afterKill []func() error
	consoles  []*consolePort
	cg        cgroupHandle
	cgMode    cgroup.Mode
	// bornInCgroup is set when the current init was cloned into its cgroup.
	bornInCgroup bool
	// spareJoin, set when the first boot's init came with its spare cgroup
	// (takeSpare), moves it into the hierarchies the spare lacked.
	spareJoin func(pid int) error
	// selfJoin are the v1 cgroup tasks files the current boot's __init
	// joins by itself (joinCgroup), until sent with MsgGo.
	selfJoin []int
	// adopted is set while a boot's __init is a taken stage; pendingJoin
	// then ends with its move by pid into the rest of its cgroup.
	adopted     bool
	pendingJoin chan error
	// procFSAttached is set once the guest is registered with the /proc
	// server; procFSStart is its current boot's start (CLOCK_BOOTTIME).
	procFSAttached bool
	procFSStart    time.Duration
	// booted is set once the guest's first boot succeeded (a fresh guest
	// layer is kept from then on).
	booted atomic.Bool

	// hotMu makes device changes (attach-device, detach-device) one at a
	// time, and keeps them out of a boot or reboot: a change replaces the
	// plan (p, planJSON) that a boot reads from start to end.
	hotMu sync.Mutex

	mu sync.Mutex // mu guards the fields below
	st state.State
	// stateRetry is set while state.json could not be written (a timer
	// retries).
	stateRetry bool
	// init is the running guest init; nil between boots.
	init *exec.Cmd
	// pending is the action a control request asked for (stop, destroy,
	// reboot); "" when the guest ends on its own.
	pending request
	// forced is set when a graceful stop ran out of time.
	forced bool
	// finished is closed when the guest is gone and everything is torn down.
	finished chan struct{}
	// lastWritten is closed once teardown's final state is visible in
	// Paths.LastFile (nil before teardown).
	lastWritten chan struct{}
	// waiters count control requests that wait for finished.
	waiters sync.WaitGroup

	// exited is closed when the current init has been reaped.
	exited <-chan struct{}
}

func newSupervisor(p *plan.Plan) *Supervisor {
	return &Supervisor{
		p:          p,
		log:        log.New(os.Stderr, p.Name+": ", log.LstdFlags|log.Lmicroseconds),
		trace:      log.New(os.Stderr, p.Name+": ", log.LstdFlags|log.Lmicroseconds),
		hostRevert: revert.New(),
		bootRevert: revert.New(),
		finished:   make(chan struct{}),
		st: state.State{
			Name: p.Name, UUID: p.UUID, Status: state.Starting,
			SupervisorPID: os.Getpid(), Transient: p.Transient,
		},
	}
}

// writeStateLocked records st in state.json; mu must be held.
func (s *Supervisor) writeStateLocked() {
	err := state.WriteRuntime(s.p.Paths.StateFile, &s.st)
	if err == nil {
		s.stateRetry = false
		return
	}
	if errors.Is(err, fs.ErrNotExist) {
		return // the runtime directory is gone: the guest was torn down
	}
	// A full disk (ENOSPC, EDQUOT) or an I/O error: the file keeps an
	// older state, which list and exec read, until a write succeeds. The
	// supervisor's own word (status) is right meanwhile; retry until the
	// file is too.
	if !s.stateRetry {
		s.log.Printf("record state: %v (retrying every %v)", err, stateRetryEvery)
		s.stateRetry = true
		s.scheduleStateRetry()
	}
}

// stateRetryEvery is how often a failed state.json write is retried.
const stateRetryEvery = time.Second

// scheduleStateRetry writes the state again after stateRetryEvery, and so
// on while the writes fail.
func (s *Supervisor) scheduleStateRetry() {
	time.AfterFunc(stateRetryEvery, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.stateRetry {
			return
		}
		err := state.WriteRuntime(s.p.Paths.StateFile, &s.st)
		switch {
		case err == nil:
			s.stateRetry = false
			s.log.Printf("record state: written again")
		case errors.Is(err, fs.ErrNotExist):
			s.stateRetry = false
		default:
			s.scheduleStateRetry()
		}
	})
}

// setState updates the state under mu and records it.
func (s *Supervisor) setState(f func(st *state.State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
	s.writeStateLocked()
}

// snapshot returns a copy of the state.
func (s *Supervisor) snapshot() state.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func describeExit(ps *os.ProcessState) string {
	if ps == nil {
		return "unknown"
	}
	return fmt.Sprintf("%v", ps)
}
