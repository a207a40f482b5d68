package initsys

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/plan"
)

// warmth is what a waiting stage did before its guest came (MsgWarm,
// plan/sync.go): each part is best effort, and what is missing is done
// after MsgGo as for a cloned stage.
type warmth struct {
	// loUp: lo is up in the stage's network namespace.
	loUp bool
	// premounts are the v1 hierarchies mounted ahead (cgroup.PremountV1),
	// nil when none were.
	premounts map[string]int
}

// warm does a waiting stage's guest-independent set-up. Given its spare
// cgroup (InCgroup, with its tasks files) it joins it, enters a cgroup
// namespace rooted there (the start that takes it renames that cgroup to
// the guest's) and, without a user namespace, premounts the v1
// hierarchies in it.
func warm(m plan.Message, fds []int) warmth {
	var w warmth
	w.loUp = bringLoUp() == nil
	if !m.InCgroup {
		closeFDs(fds)
		return w
	}
	// Its spare's v1 tasks files: this thread joins them (the supervisor may
	// have renamed the spare to its guest's meanwhile: the same cgroup).
	// If that fails the stage must not serve: exiting, it is forgotten.
	if err := cgroup.JoinSelf(pickRights(m.JoinFDs, fds)); err != nil {
		os.Exit(1)
	}
	if unix.Unshare(unix.CLONE_NEWCGROUP) != nil {
		return w
	}
	if pre, err := cgroup.PremountV1(); err == nil && len(pre) > 0 {
		w.premounts = pre
	}
	return w
}

// closeFDs closes fds a message brought that nothing uses.
func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// awaitRest waits for the supervisor's MsgRest: the /proc server's files,
// and (joinPending) we are in all of the guest's cgroup from then on.
func (g *guest) awaitRest(sync *os.File) error {
	m, fds, err := plan.Recv(sync)
	if err != nil {
		return &plan.StepFailure{Step: "wait for supervisor", Err: err}
	}
	if m.Type != plan.MsgRest {
		closeFDs(fds)
		return &plan.StepFailure{Step: "wait for supervisor", Err: fmt.Errorf("unexpected message %q", m.Type)}
	}
	g.procFSTrees = pickNodes(m.ProcFSFDs, fds)
	return nil
}
