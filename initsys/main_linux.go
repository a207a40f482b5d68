package initsys

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"vmlite/cgroup"
	"vmlite/plan"
)

func init() {
	// Every namespace, capability and credential change below is per thread,
	// and execve must come from the thread that made them. Locking in init()
	// pins the main goroutine to the main thread before main runs. This runs
	// for every role; for the CLI and supervisor it only costs the lock.
	runtime.LockOSThread()
}

// Main is the entry point of the __init role: it waits for the supervisor's
// go message, sets the guest up and execs its init. It never returns: on
// failure it reports over the sync socket and exits 255.
func Main() {
	// The guest runs with whatever memory it has; __init lives for
	// milliseconds, so a collection would be wasted work.
	debug.SetGCPercent(-1)
	sync := os.NewFile(uintptr(plan.InitSyncFD), "sync")
	err := run(sync)
	// run returns only on failure (success ends in execve).
	var f *plan.StepFailure
	if !errors.As(err, &f) {
		f = plan.Fail("set up guest", err)
	}
	_ = plan.Send(sync, plan.Message{Type: plan.MsgError, Failure: f})
	fmt.Fprintf(os.Stderr, "vmlite __init: %v\n", err)
	os.Exit(255)
}

// run receives the plan and performs the set-up steps in order. Each step is
// one line here so this function reads as the table of contents.
func run(sync *os.File) (err error) {
	defer func() {
		// A panic must still reach the supervisor as a step error.
		if r := recover(); r != nil {
			err = &plan.StepFailure{Step: "set up guest", Err: fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
		}
	}()
	m, fds, err := plan.Recv(sync)
	if err != nil {
		return &plan.StepFailure{Step: "wait for supervisor", Err: err}
	}
	var w warmth
	if m.Type == plan.MsgWarm {
		// A pre-forked stage, still waiting for its guest.
		w = warm(m, fds)
		if m, fds, err = plan.Recv(sync); err != nil {
			return &plan.StepFailure{Step: "wait for supervisor", Err: err}
		}
	}
	if m.Type == plan.MsgAdopt {
		// A pre-forked stage: the guest it is for has come.
		if err := adopt(m, fds); err != nil {
			return err
		}
		if m, fds, err = plan.Recv(sync); err != nil {
			return &plan.StepFailure{Step: "wait for supervisor", Err: err}
		}
	}
	if m.Type != plan.MsgGo {
		return &plan.StepFailure{Step: "wait for supervisor", Err: fmt.Errorf("unexpected message %q", m.Type)}
	}
	// How long each step took, for the supervisor's log (MsgReady).
	timings := make([]plan.StepTime, 0, 16)
	last := time.Now()
	lap := func(step string) {
		now := time.Now()
		timings = append(timings, plan.StepTime{Step: step, Micros: now.Sub(last).Microseconds()})
		last = now
	}
	p, err := plan.Unmarshal(m.Plan)
	if err != nil {
		return &plan.StepFailure{Step: "read launch plan", Err: err}
	}
	rootTree := -1
	if m.RootfsFD >= 0 && m.RootfsFD < len(fds) {
		rootTree = fds[m.RootfsFD]
	}
	maskTree := -1
	if m.MaskFD >= 0 && m.MaskFD < len(fds) {
		maskTree = fds[m.MaskFD]
	}
	cgroupTree := -1
	if m.CgroupFD >= 0 && m.CgroupFD < len(fds) {
		cgroupTree = fds[m.CgroupFD]
	}
	g := &guest{p: p, warm: w, cgPremounts: w.premounts, rootTree: rootTree, maskTree: maskTree, cgroupTree: cgroupTree, consolePaths: m.ConsolePaths, attachDir: m.AttachDir, mountTrees: pickRights(m.MountFDs, fds), devNodes: pickNodes(m.DevFDs, fds), procFSTrees: pickNodes(m.ProcFSFDs, fds)}
	lap("readPlan")

	// A cloned __init joins the guest's v1 cgroups itself (its thread: the
	// one that execs the guest's init), before anything else.
	if len(m.JoinFDs) > 0 {
		if err := cgroup.JoinSelf(pickRights(m.JoinFDs, fds)); err != nil {
			return &plan.StepFailure{Step: "join cgroup", Err: err}
		}
		lap("joinCgroup")
	}

	// The supervisor has put us in the guest's cgroup; only now does a new
	// cgroup namespace root at it (a namespace made at clone time would root
	// at the supervisor's cgroup). With JoinPending, once it says so
	// (awaitJoin, below).
	g.restPending, g.joinPending = m.RestPending, m.JoinPending
	if !g.joinPending {
		if err := g.unshareCgroup(); err != nil {
			return err
		}
		lap("unshareCgroup")
	}
	if err := g.setHostname(); err != nil {
		return err
	}
	lap("setHostname")
	if err := g.loopbackUp(); err != nil {
		return err
	}
	lap("loopbackUp")
	if err := g.detectCgroups(); err != nil {
		return err
	}
	lap("detectCgroups")
	if err := g.prepareRoot(); err != nil {
		return err
	}
	lap("prepareRoot")
	if err := g.mountAPIFilesystems(); err != nil {
		return err
	}
	lap("mountAPIFilesystems")
	if err := g.populateDev(); err != nil {
		return err
	}
	lap("populateDev")
	if err := g.mountConsoles(); err != nil {
		return err
	}
	lap("mountConsoles")
	if g.restPending {
		// What the supervisor finished meanwhile: the /proc server's files,
		// a taken stage's move into the rest of its cgroup.
		if err := g.awaitRest(sync); err != nil {
			return err
		}
		lap("awaitRest")
		if err := g.bindProcFS(); err != nil {
			return err
		}
		if g.joinPending {
			if err := g.unshareCgroup(); err != nil {
				return err
			}
			if err := g.mountCgroups(); err != nil {
				return err
			}
		}
		lap("procfs and cgroups")
	}
	if err := g.mountFilesystems(); err != nil {
		return err
	}
	lap("mountFilesystems")
	if err := g.pivotRoot(); err != nil {
		return err
	}
	lap("pivotRoot")
	if err := g.finishReadOnly(); err != nil {
		return err
	}
	lap("finishReadOnly")
	argv0, err := g.lookupInit()
	if err != nil {
		return err
	}
	lap("lookupInit")
	if err := g.dropCapabilities(); err != nil {
		return err
	}
	lap("dropCapabilities")
	if err := g.switchUser(); err != nil {
		return err
	}
	lap("switchUser")
	if err := g.closeExtraFDs(); err != nil {
		return err
	}
	lap("closeExtraFDs")
	if err := plan.Send(sync, plan.Message{Type: plan.MsgReady, Timings: timings}); err != nil {
		return &plan.StepFailure{Step: "report ready", Err: err}
	}
	return g.exec(argv0)
}
