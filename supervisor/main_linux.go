package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/initsys"
	"vmlite/plan"
	"vmlite/state"
)

// Main is the entry point of the __supervise role; it returns the exit status.
func Main() int {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	// Hundreds of supervisors share a host: keep the heap small. They
	// allocate little after start, so a low GC target costs nothing.
	debug.SetGCPercent(25)
	debug.SetMemoryLimit(8 << 20)
	// One P: the supervisor only waits on fds and signals, and every P
	// costs an mcache, a GC worker and often a thread of its own.
	runtime.GOMAXPROCS(1)

	status := os.NewFile(plan.SupervisorStatusFD, "status")
	lock := os.NewFile(plan.SupervisorLockFD, "lock")
	_ = lock // held open for the supervisor's lifetime: the guest runs while it is locked
	p, err := readPlan(os.NewFile(plan.SupervisorPlanFD, "plan"))
	if err != nil {
		report(status, plan.StartResult{Error: err.Error()})
		return 1
	}
	log.SetPrefix(p.Name + ": ")
	// The supervisor is detached; SIGHUP from a closing terminal or SIGINT
	// from a ^C in the starting shell must not end it. SIGTERM means
	// "stop the guest" (as at host shutdown), SIGPIPE comes from console
	// clients that went away.
	signal.Ignore(unix.SIGHUP, unix.SIGINT, unix.SIGPIPE)

	s := newSupervisor(p)
	res := s.start()
	report(status, res)
	if !res.OK {
		return 1
	}
	// Start-up garbage (the plan's JSON, the sync messages) is gone after
	// the report; hand its pages back now rather than when the scavenger
	// gets to it, since the supervisor then idles for the guest's lifetime.
	debug.FreeOSMemory()
	s.run()
	// The lock is released by the kernel when the process ends, not before.
	runtime.KeepAlive(lock)
	return 0
}

func readPlan(f *os.File) (*plan.Plan, error) {
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read launch plan: %w", err)
	}
	return plan.Unmarshal(b)
}

// report writes the start result for `vmlite start` and closes the pipe.
func report(f *os.File, r plan.StartResult) {
	r.SupervisorPID = os.Getpid()
	b, _ := json.Marshal(r)
	_, _ = f.Write(append(b, '\n'))
	f.Close()
}

// start sets up the host side and boots the guest once. On failure it has
// rolled everything back before it returns.
func (s *Supervisor) start() plan.StartResult {
	if err := s.setupConsolesFirst(); err != nil {
		s.failStart(err)
		return resultOf(err)
	}
	if err := s.boot(s.setupHost); err != nil {
		s.failStart(err)
		return resultOf(err)
	}
	st := s.snapshot()
	return plan.StartResult{OK: true, InitPID: st.InitPID}
}

// failStart rolls back a failed start and records why.
func (s *Supervisor) failStart(err error) {
	log.Printf("start failed: %v", err)
	if uerr := s.bootRevert.Undo(); uerr != nil {
		log.Printf("roll back boot: %v", uerr)
	}
	if uerr := s.hostRevert.Undo(); uerr != nil {
		log.Printf("roll back host set-up: %v", uerr)
	}
	s.mu.Lock()
	s.st.Status, s.st.Reason, s.st.Error, s.st.StoppedAt = state.Shutoff, state.ReasonFailed, err.Error(), time.Now()
	last := s.st
	s.mu.Unlock()
	if werr := state.Write(s.p.Paths.LastFile, &last); werr != nil {
		log.Printf("record last state: %v", werr)
	}
}

// resultOf turns a start error into the CLI's report.
func resultOf(err error) plan.StartResult {
	r := plan.StartResult{Error: err.Error()}
	var se *initsys.StepError
	if errors.As(err, &se) {
		r.Step, r.XMLPath, r.User, r.Error = se.Step, se.XMLPath, se.User, se.Err.Error()
	}
	return r
}
