package supervisor

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"vmlite/plan"
)

func TestIDMapText(t *testing.T) {
	for _, tc := range []struct {
		in   []plan.IDRange
		want string
	}{
		{nil, ""},
		{[]plan.IDRange{{Start: 0, Target: 100000, Count: 65536}}, "0 100000 65536\n"},
		{[]plan.IDRange{{Start: 0, Target: 200000, Count: 1000}, {Start: 1000, Target: 1000, Count: 1}}, "0 200000 1000\n1000 1000 1\n"},
	} {
		if got := string(idMapText(tc.in)); got != tc.want {
			t.Errorf("idMapText(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestStagePoolTake: a pool hands out only a live stage of the kind the
// plan needs, once, and none for a guest that shares namespaces or a
// mapped one (its user namespace must be owned by its root's host uid,
// which a stage forked before the guest is known is not), even with a
// mapped stage waiting; a mapped start does not turn the pool to its kind.
func TestStagePoolTake(t *testing.T) {
	newStage := func(mapped, dead bool) *stage {
		st := &stage{exited: make(chan struct{}), taken: make(chan struct{}), kind: stageKind{mapped: mapped}}
		if dead {
			close(st.exited)
		}
		return st
	}
	unmapped := &plan.Plan{}
	mapped := &plan.Plan{IDMap: plan.IDMap{UIDs: []plan.IDRange{{Start: 0, Target: 100000, Count: 65536}}, GIDs: []plan.IDRange{{Start: 0, Target: 100000, Count: 65536}}}}
	sharing := &plan.Plan{Share: []plan.SharedNamespace{{Kind: "net", Path: "/proc/1/ns/net"}}}
	if !mapped.IDMap.Enabled() {
		t.Fatal("test plan is not mapped")
	}
	deadU, liveU, liveM := newStage(false, true), newStage(false, false), newStage(true, false)
	// A stage whose spare cgroup is in another partition serves no guest
	// of the default one.
	otherPart := newStage(false, false)
	otherPart.kind.partition = "/other"
	sp := newStagePool(4)
	sp.waiting = []*stage{deadU, otherPart, liveU, liveM}
	if got := sp.take(sharing); got != nil {
		t.Errorf("a sharing guest got a stage")
	}
	if got := sp.take(unmapped); got != liveU {
		t.Errorf("unmapped take: %p, want the live unmapped stage %p", got, liveU)
	}
	if got := sp.take(unmapped); got != nil {
		t.Errorf("second unmapped take got %p: a stage served twice, or a dead one", got)
	}
	if got := sp.take(mapped); got != nil {
		t.Errorf("a mapped guest got stage %p, a user namespace owned by root", got)
	}
	if sp.kind.mapped {
		t.Error("the pool refills with mapped stages, which no start takes")
	}
	if got := sp.take(&plan.Plan{Cgroup: plan.Cgroup{Partition: "/other", Name: plan.CgroupName("x", "0123abcd")}}); got != otherPart {
		t.Errorf("take for partition /other: %p, want %p", got, otherPart)
	}
	if sp.kind.partition != "/other" || sp.instance != "0123abcd" {
		t.Errorf("pool refills for %+v, instance %q; want partition /other, the plan's instance", sp.kind, sp.instance)
	}
	select {
	case <-otherPart.taken:
	default:
		t.Error("a taken stage is not marked taken")
	}
	select {
	case <-liveM.taken:
		t.Error("the mapped stage is marked taken")
	default:
	}
	var none *stagePool
	if none.take(unmapped) != nil {
		t.Error("a nil pool gave a stage")
	}
}

// TestForkThreadOutlivesLockedExits: stages are forked from one thread,
// which goroutines that exit locked to their threads (startAsOwner's),
// and so end those threads, never end: a stage's parent-death signal
// fires when its forking thread ends.
func TestForkThreadOutlivesLockedExits(t *testing.T) {
	var first int
	onForkThread(func() { first = unix.Gettid() })
	for i := 0; i < 20; i++ {
		done := make(chan struct{})
		go func() {
			defer close(done)
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		}()
		<-done
		var tid int
		onForkThread(func() { tid = unix.Gettid() })
		if tid != first {
			t.Fatalf("stage forked on thread %d, then %d", first, tid)
		}
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", first)); err != nil {
		t.Errorf("the stage-forking thread %d ended: %v", first, err)
	}
}
