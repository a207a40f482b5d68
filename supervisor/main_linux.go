package supervisor

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/plan"
	"vmlite/state"
)

// Main is the entry point of the __supervise role; it returns the exit
// status. argv: vmlite __supervise NAME, or vmlite __supervise
// --pool-socket PATH --max-guests N. NAME is the guest's (for ps); the plan,
// status pipe and lock come on the fds of plan/fds.go. With --max-guests
// above 1 the listening socket of the pool comes on fd 6 and further
// guests arrive through it (pool_linux.go).
func Main() int {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	// Hundreds of guests share a host: keep the heap small. Supervisors
	// allocate little after start, so a low GC target costs nothing.
	debug.SetGCPercent(25)
	// One P: the supervisor only waits on fds and signals, and every P
	// costs an mcache, a GC worker and often a thread of its own.
	runtime.GOMAXPROCS(1)
	// The supervisor is detached; SIGHUP from a closing terminal or SIGINT
	// from a ^C in the starting shell must not end it. SIGTERM means
	// "stop the guests" (as at host shutdown), SIGPIPE comes from console
	// clients that went away.
	signal.Ignore(unix.SIGHUP, unix.SIGINT, unix.SIGPIPE)
	// The fds inherited from `vmlite start` are not close-on-exec: every
	// process the supervisor spawns (the /proc server, __init and with it
	// the guest) would inherit the guest's lock, keep it held after the
	// supervisor dies (a killed supervisor's guest then looks "running",
	// never orphaned) and let the guest hold its own lock.
	for _, fd := range []int{plan.SupervisorStatusFD, plan.SupervisorPlanFD, plan.SupervisorLockFD, plan.SupervisorPoolFD} {
		unix.CloseOnExec(fd)
	}

	fs := flag.NewFlagSet(Role, flag.ContinueOnError)
	var o poolOptions
	fs.StringVar(&o.socket, "pool-socket", "", "")
	fs.IntVar(&o.max, "max-guests", 1, "")
	fs.IntVar(&o.stages, "init-stages", 0, "")
	args := os.Args[2:]
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		args = args[1:] // the first guest's name
	}
	status := os.NewFile(plan.SupervisorStatusFD, "status")
	if err := fs.Parse(args); err != nil {
		report(status, plan.Failed(fmt.Errorf("supervisor arguments: %w", err)))
		return 1
	}
	// A soft limit that grows with the guests the process may host.
	debug.SetMemoryLimit(8<<20 + int64(max(o.max, 1))*(1<<20))
	pl := newPool(o)
	if o.max > 1 {
		l, err := net.FileListener(os.NewFile(plan.SupervisorPoolFD, "pool"))
		if err != nil {
			report(status, plan.Failed(fmt.Errorf("supervisor pool socket: %w", err)))
			return 1
		}
		pl.serve(l.(*net.UnixListener))
	}
	lock := os.NewFile(plan.SupervisorLockFD, "lock")
	p, raw, err := readPlan(os.NewFile(plan.SupervisorPlanFD, "plan"))
	if err != nil {
		report(status, plan.Failed(err))
		lock.Close()
		pl.guestGone() // nothing to host: the pool ends unless a guest came meanwhile
	} else {
		pl.adopt()
		go pl.runGuest(p, raw, lock, func(r plan.StartResult) { report(status, r) })
	}
	<-pl.exit
	pl.stages.close()
	return 0
}

// readPlan reads the plan on f, and returns it with its JSON, which the
// supervisor passes on as is (plan.json, the sync socket).
func readPlan(f *os.File) (*plan.Plan, json.RawMessage, error) {
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("read launch plan: %w", err)
	}
	p, err := plan.Unmarshal(b)
	return p, b, err
}

// report writes the start result for `vmlite start` and closes the pipe.
func report(f io.WriteCloser, r plan.StartResult) {
	r.SupervisorPID = os.Getpid()
	b, _ := json.Marshal(r)
	_, _ = f.Write(append(b, '\n'))
	f.Close()
}

// superviseGuest starts one guest and supervises it until it is gone;
// report gets the start result. On a failed start everything has been
// rolled back when report is called.
//
// alone reports whether the guest is the process's only one. raw is p's
// JSON as received.
func superviseGuest(p *plan.Plan, raw json.RawMessage, lock *os.File, shared bool, stages *stagePool, alone func() bool, report func(plan.StartResult)) {
	s := newSupervisor(p)
	s.stages = stages
	s.planJSON = raw
	s.lock = lock
	s.st.SharedSupervisor = shared
	// The guest's own log file, made on its first line: a shared
	// supervisor's stderr is the pool's (supervisors.log), which gets each
	// start's breakdown (s.trace).
	gl := newGuestLog(p.Paths.SupervisorLog)
	s.log = log.New(gl, p.Name+": ", log.LstdFlags|log.Lmicroseconds)
	defer gl.Close()
	startSlots <- struct{}{}
	res := s.start()
	<-startSlots
	report(res)
	// The next start into this process takes a stage made now, off this
	// start's path.
	go stages.refill(s.initExecutable)
	if !res.OK {
		lock.Close()
		return
	}
	// The plan's JSON as received (a few KiB) is not kept for the guest's
	// lifetime: a reboot encodes the plan again (encodedPlan). Under hotMu,
	// as a device change replaces both.
	s.hotMu.Lock()
	s.planJSON = nil
	s.hotMu.Unlock()
	// Start-up garbage (the plan's JSON, the sync messages) is gone after
	// the report; hand its pages back now rather than when the scavenger
	// gets to it, since the supervisor then idles for the guest's lifetime.
	// A supervisor hosting other guests does it once its starts have
	// stopped coming (freeOSMemoryWhenQuiet): a forced collection after
	// every start of a burst, whose pages the next start faults in again,
	// would cost more than it returns, and without one an idle Go process
	// collects only every two minutes: a burst's garbage stayed resident
	// (bench/README.md, "Mass boot").
	if alone() {
		debug.FreeOSMemory()
	} else {
		freeOSMemoryWhenQuiet()
	}
	dropExePagesSoon()
	s.run()
}

// start sets up the host side and boots the guest once. On failure it has
// rolled everything back before it returns.
func (s *Supervisor) start() plan.StartResult {
	if err := s.setupConsolesFirst(); err != nil {
		s.failStart(err)
		return plan.Failed(err)
	}
	s.hotMu.Lock()
	err := s.boot(s.setupHost)
	s.hotMu.Unlock()
	if err != nil {
		s.failStart(err)
		return plan.Failed(err)
	}
	s.booted.Store(true)
	st := s.snapshot()
	return plan.StartResult{OK: true, InitPID: st.InitPID}
}

// failStart rolls back a failed start and records why.
func (s *Supervisor) failStart(err error) {
	s.log.Printf("start failed: %v", err)
	if uerr := s.bootRevert.Undo(); uerr != nil {
		s.log.Printf("roll back boot: %v", uerr)
	}
	if uerr := s.hostRevert.Undo(); uerr != nil {
		s.log.Printf("roll back host set-up: %v", uerr)
	}
	s.releaseTrees()
	s.mu.Lock()
	s.st.Status, s.st.Reason, s.st.Error, s.st.StoppedAt = state.Shutoff, state.ReasonFailed, err.Error(), time.Now()
	last := s.st
	s.mu.Unlock()
	if werr := state.Write(s.p.Paths.LastFile, &last); werr != nil {
		s.log.Printf("record last state: %v", werr)
	}
}
