package supervisor

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/plan"
	"vmlite/state"
)

// Requests a control client can make; they decide how an exit is read.
const (
	reqNone    request = ""
	reqStop    request = "stop"
	reqDestroy request = "destroy"
	reqReboot  request = "reboot"
)

// Crash-loop guard: more than maxQuickRestarts restarts within
// quickRestartWindow and the guest stays down.
const (
	maxQuickRestarts   = 5
	quickRestartWindow = 60 * time.Second
)

// outcome is what happens after init exited.
type outcome struct {
	restart bool
	final   state.State // the state to record when not restarting
}

// run waits for the guest to end, restarts it when its lifecycle says so,
// and tears everything down at the end.
func (s *Supervisor) run() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, unix.SIGTERM)
	defer signal.Stop(term)
	var restarts []time.Time
	for {
		s.mu.Lock()
		exited := s.exited
		s.mu.Unlock()
		select {
		case <-term:
			// Host shutdown or `kill`: a graceful, bounded stop.
			go s.requestStop(reqStop, 0)
			continue
		case <-exited:
		}
		out := s.classifyExit()
		var rec *lastRecord
		if !out.restart {
			rec = s.recordLast(out.final) // beside the boot's undo
		}
		if err := s.bootRevert.Undo(); err != nil {
			s.log.Printf("clean up after init exit: %v", err)
		}
		if out.restart {
			now := time.Now()
			restarts = append(restarts, now)
			for len(restarts) > 0 && now.Sub(restarts[0]) > quickRestartWindow {
				restarts = restarts[1:]
			}
			if len(restarts) > maxQuickRestarts {
				s.log.Printf("restarted %d times within %v: giving up", len(restarts)-1, quickRestartWindow)
				out = outcome{final: s.endState(state.Crashed, state.ReasonCrashed, "restart loop: init keeps ending")}
			} else if err := s.reboot(); err != nil {
				s.log.Printf("restart failed: %v", err)
				out = outcome{final: s.endState(state.Crashed, state.ReasonFailed, "restart failed: "+err.Error())}
			} else {
				continue
			}
		}
		if rec == nil {
			rec = s.recordLast(out.final)
		}
		s.teardown(rec)
		return
	}
}

// reboot boots the guest again with the same plan; consoles and their
// clients stay.
func (s *Supervisor) reboot() error {
	s.mu.Lock()
	s.pending = reqNone
	s.st.Restarts++
	s.st.Status = state.Starting
	s.writeStateLocked()
	s.mu.Unlock()
	s.log.Printf("rebooting")
	s.hotMu.Lock()
	defer s.hotMu.Unlock()
	return s.boot(nil)
}

// classifyExit reads how init ended, given what was asked of it.
func (s *Supervisor) classifyExit() outcome {
	s.mu.Lock()
	pending := s.pending
	ps := s.init.ProcessState
	s.init = nil
	s.mu.Unlock()
	ws, _ := ps.Sys().(syscall.WaitStatus)
	s.log.Printf("init exited: %v (request %q)", ps, pending)
	status, sig := exitDetails(ws)
	s.mu.Lock()
	s.st.ExitStatus, s.st.ExitSignal = &status, sig
	s.mu.Unlock()

	switch pending {
	case reqDestroy:
		return outcome{final: s.endState(state.Shutoff, state.ReasonDestroyed, "")}
	case reqStop:
		return outcome{final: s.endState(state.Shutoff, state.ReasonShutdown, "")}
	case reqReboot:
		return outcome{restart: true}
	}
	lc := s.p.Lifecycle
	switch {
	// reboot(2) in a pid namespace ends its init with SIGHUP (restart) or
	// SIGINT (halt, power off): kernel/pid_namespace.c reboot_pid_ns.
	case ws.Signaled() && ws.Signal() == unix.SIGHUP:
		return s.apply(lc.OnReboot, state.ReasonRebooted)
	case ws.Signaled() && ws.Signal() == unix.SIGINT, ws.Exited() && ws.ExitStatus() == 0:
		return s.apply(lc.OnPoweroff, state.ReasonShutdown)
	default:
		return s.apply(lc.OnCrash, state.ReasonCrashed)
	}
}

// apply maps a lifecycle action to an outcome.
func (s *Supervisor) apply(a plan.Action, why state.Reason) outcome {
	switch a {
	case plan.ActionRestart:
		return outcome{restart: true}
	case plan.ActionPreserve:
		return outcome{final: s.endState(state.Crashed, why, "")}
	}
	if why == state.ReasonCrashed {
		return outcome{final: s.endState(state.Crashed, why, "")}
	}
	if why == state.ReasonRebooted {
		why = state.ReasonShutdown // on_reboot=destroy: the guest is off
	}
	return outcome{final: s.endState(state.Shutoff, why, "")}
}

// endState is the state recorded when the guest is gone.
func (s *Supervisor) endState(st state.Status, why state.Reason, msg string) state.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.st
	out.Status, out.Reason, out.StoppedAt, out.Error = st, why, time.Now(), msg
	if why == state.ReasonCrashed && out.ExitStatus != nil {
		if out.ExitSignal != "" {
			out.Error = "init was killed by " + out.ExitSignal
		} else {
			out.Error = fmt.Sprintf("init exited with status %d", *out.ExitStatus)
		}
	}
	return out
}

// lastRecord is the final state of a run on its way to Paths.LastFile.
type lastRecord struct {
	final   state.State
	written chan struct{} // closed once it is visible
	synced  chan struct{} // closed once it is durable (or failed)
	restore func()        // the supervisor's GOMAXPROCS again
}

// recordLast writes final, with the cgroup's OOM kill count, as the run's
// last state, in the background: the write (a create and a rename in the
// state root, on a disk) and its two fsyncs were most of a stop's
// teardown on a loaded disk, so they run beside the boot's undo and the
// teardown. Nothing reads the record while the runtime state is there:
// the runtime directory goes only once it is visible (awaitLastState), so
// that `vmlite list` and serve's events never see the previous run's. A
// dedicated supervisor exits only once the fsyncs are done, and the
// stopping client waits for that exit.
func (s *Supervisor) recordLast(final state.State) *lastRecord {
	if s.cg != nil {
		if n, err := s.cg.OOMKills(); err == nil {
			final.OOMKills = n
		}
	}
	s.log.Printf("guest ended: %s (%s) %s", final.Status, final.Reason, final.Error)
	r := &lastRecord{final: final, written: make(chan struct{}), synced: make(chan struct{})}
	s.mu.Lock()
	s.lastWritten = r.written
	s.mu.Unlock()
	// A second P while it runs: with the supervisor's one, the goroutine
	// in a system call would hold it until the runtime's monitor handed
	// it on (it may sleep for milliseconds), and nothing would overlap.
	r.restore = borrowP()
	go func() {
		defer close(r.synced)
		err := state.WriteRuntime(s.p.Paths.LastFile, &r.final)
		if err == nil {
			close(r.written)
			err = state.Sync(s.p.Paths.LastFile)
		} else {
			err = state.Write(s.p.Paths.LastFile, &r.final)
			close(r.written)
		}
		if err != nil {
			s.log.Printf("record last state: %v", err)
		}
	}()
	return r
}

// extraP counts the records being written; the first raises GOMAXPROCS
// to 2, the last puts it back (a shared supervisor's guests can end
// together).
var extraP struct {
	sync.Mutex
	n, prev int
}

// borrowP holds the second P until release is called, once.
func borrowP() (release func()) {
	extraP.Lock()
	if extraP.n == 0 {
		extraP.prev = runtime.GOMAXPROCS(2)
	}
	extraP.n++
	extraP.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			extraP.Lock()
			if extraP.n--; extraP.n == 0 {
				runtime.GOMAXPROCS(extraP.prev)
			}
			extraP.Unlock()
		})
	}
}

// teardown removes everything; rec is the final state on its way to the
// record (recordLast).
func (s *Supervisor) teardown(rec *lastRecord) {
	defer rec.restore()
	final, synced := rec.final, rec.synced
	if err := s.hostRevert.Undo(); err != nil {
		s.log.Printf("tear down: %v", err)
	}
	s.releaseTrees()
	// The runtime directory (and its lock file) is gone: a new start of
	// the guest may begin. A dedicated supervisor is about to exit anyway;
	// a shared one goes on hosting its other guests.
	if s.lock != nil {
		s.lock.Close()
	}
	s.mu.Lock()
	s.st = final
	s.mu.Unlock()
	close(s.finished)
	<-synced
	// Let waiting control clients read their answer; bounded, so a stuck
	// client cannot keep the supervisor alive.
	done := make(chan struct{})
	go func() { s.waiters.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// awaitLastState waits until teardown's record of the final state is
// visible (a boot's undo before any teardown: nothing to wait for).
func (s *Supervisor) awaitLastState() {
	s.mu.Lock()
	w := s.lastWritten
	s.mu.Unlock()
	if w != nil {
		<-w
	}
}

// exitDetails returns an exit status (-1 for a signal) and the signal name.
func exitDetails(ws syscall.WaitStatus) (int, string) {
	if ws.Signaled() {
		return -1, unix.SignalName(ws.Signal())
	}
	return ws.ExitStatus(), ""
}
