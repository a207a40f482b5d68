package supervisor

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"sync"

	"vmlite/cgroup"
	"vmlite/internal/revert"
	"vmlite/plan"
	"vmlite/state"
)

// Supervisor supervises one guest. Its methods are called from the main
// goroutine and the control socket's goroutines; mu guards the run state.
type Supervisor struct {
	p *plan.Plan
	// planJSON is p as received, passed on as is (plan.json, __init).
	planJSON json.RawMessage
	// log is the guest's own diagnostics log (its SupervisorLog file): a
	// shared supervisor writes each guest's lines to that guest's file.
	log *log.Logger
	// lock is the guest's lock file, held until the guest is torn down.
	lock *os.File

	// treeMu guards treeLocks: the shift locks of the trees the guest uses.
	treeMu    sync.Mutex
	treeLocks map[string]*os.File

	hostRevert *revert.Reverter
	bootRevert *revert.Reverter
	consoles   []*consolePort
	cg         cgroupHandle
	cgMode     cgroup.Mode
	// bornInCgroup is set when the current init was cloned into its cgroup.
	bornInCgroup bool

	mu sync.Mutex // mu guards the fields below
	st state.State
	// init is the running guest init; nil between boots.
	init *exec.Cmd
	// pending is the action a control request asked for (stop, destroy,
	// reboot); "" when the guest ends on its own.
	pending request
	// forced is set when a graceful stop ran out of time.
	forced bool
	// finished is closed when the guest is gone and everything is torn down.
	finished chan struct{}
	// waiters count control requests that wait for finished.
	waiters sync.WaitGroup

	// exited is closed when the current init has been reaped.
	exited <-chan struct{}
}

func newSupervisor(p *plan.Plan) *Supervisor {
	return &Supervisor{
		p:          p,
		log:        log.New(os.Stderr, p.Name+": ", log.LstdFlags|log.Lmicroseconds),
		hostRevert: revert.New(),
		bootRevert: revert.New(),
		finished:   make(chan struct{}),
		st: state.State{
			Name: p.Name, UUID: p.UUID, Status: state.Starting,
			SupervisorPID: os.Getpid(), Transient: p.Transient,
		},
	}
}

// writeState records st in state.json; mu must be held.
func (s *Supervisor) writeStateLocked() {
	if err := state.WriteRuntime(s.p.Paths.StateFile, &s.st); err != nil {
		s.log.Printf("record state: %v", err)
	}
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
