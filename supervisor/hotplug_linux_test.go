package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"vmlite/plan"
	"vmlite/state"
)

// TestRecordPlanWhileRead: a device change records its plan while other
// goroutines (control requests, the main loop) read the guest's plan
// without hotMu, as a state update does; under -race this fails if the
// change replaces what they read. The last change is what the plan, its
// file and the live XML say.
func TestRecordPlanWhileRead(t *testing.T) {
	dir := t.TempDir()
	p := &plan.Plan{Version: plan.Version, Name: "g", Paths: plan.Paths{
		RunDir:    dir,
		StateFile: filepath.Join(dir, "state.json"),
		PlanFile:  filepath.Join(dir, "plan.json"),
		LiveXML:   filepath.Join(dir, "live.xml"),
	}}
	s := newSupervisor(p)
	const changes = 50
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < changes; i++ {
			s.setState(func(st *state.State) { st.Restarts = i })
		}
	}()
	var last string
	for i := 0; i < changes; i++ {
		s.hotMu.Lock()
		next := *s.p
		next.Devices = append(next.Devices, plan.Device{GuestPath: fmt.Sprintf("/dev/x%d", i)})
		last = fmt.Sprintf("<domain type='lxc'><name>g</name><!-- %d --></domain>", i)
		next.DomainXML = last
		err := s.recordPlan(&next)
		s.hotMu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if len(s.p.Devices) != changes || s.p.DomainXML != last {
		t.Errorf("plan after %d changes: %d devices, XML %q", changes, len(s.p.Devices), s.p.DomainXML)
	}
	if b, err := os.ReadFile(p.Paths.LiveXML); err != nil || string(b) != last {
		t.Errorf("live XML %q, %v; want %q", b, err, last)
	}
	b, err := os.ReadFile(p.Paths.PlanFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := plan.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Devices) != changes || got.DomainXML != last {
		t.Errorf("plan.json after %d changes: %d devices, XML %q", changes, len(got.Devices), got.DomainXML)
	}
}
