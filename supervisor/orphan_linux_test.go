package supervisor

import (
	"os/exec"
	"testing"
	"time"

	"vmlite/internal/procstat"
	"vmlite/internal/testutil"
	"vmlite/state"
)

// TestInitAlive: a recorded init is alive while it runs, also while its
// leader is a zombie and another of its threads runs (a killed Go init
// still exiting), and not once it is a zombie alone (a killed orphan's
// init, which the host's PID 1 may never reap: CleanupOrphan waited for
// it until its deadline), nor with another start time (a reused pid).
func TestInitAlive(t *testing.T) {
	recorded := func(pid int) *state.State {
		st, err := procstat.Read(pid)
		if err != nil {
			t.Fatal(err)
		}
		return &state.State{InitPID: pid, InitStart: st.StartTime}
	}
	live := exec.Command("sleep", "1000")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = live.Process.Kill(); _ = live.Wait() }()
	st := recorded(live.Process.Pid)
	if !InitAlive(st) {
		t.Error("a running init counts as dead")
	}
	reused := *st
	reused.InitStart++
	if InitAlive(&reused) {
		t.Error("an init with another start time counts as alive")
	}
	if !InitAlive(recorded(testutil.ZombieLeader(t))) {
		t.Error("an init whose leader is a zombie and another thread runs counts as dead")
	}
	zombie := exec.Command("true")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	defer zombie.Wait()
	pid := zombie.Process.Pid
	testutil.WaitFor(t, 30*time.Second, "true a zombie", func() bool { s, err := procstat.Read(pid); return err == nil && s.Zombie() })
	if InitAlive(recorded(pid)) {
		t.Error("a zombie init counts as alive")
	}
	for _, st := range []*state.State{nil, {}} {
		if InitAlive(st) {
			t.Errorf("InitAlive(%+v) with no init", st)
		}
	}
}
