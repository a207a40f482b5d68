package supervisor

import (
	"fmt"

	"vmlite/state"
)

// setPaused freezes (vmlite suspend) or thaws (resume) every process of a
// running guest through its cgroup: a frozen guest uses no CPU and keeps
// its memory; the supervisor, outside the guest's cgroup, keeps its
// consoles, so their scrollback and log stay. Resuming a guest that is not
// paused, as before a stop, does nothing.
func (s *Supervisor) setPaused(pause bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case pause && s.st.Status == state.Paused, !pause && s.st.Status != state.Paused:
		if pause {
			return fmt.Errorf("guest %s is already paused", s.p.Name)
		}
		return nil
	case pause && s.st.Status != state.Running:
		return fmt.Errorf("guest %s is %s, not running: only a running guest can be suspended", s.p.Name, s.st.Status)
	case s.cg == nil:
		return fmt.Errorf("guest %s has no cgroup", s.p.Name)
	}
	if pause {
		if err := s.cg.Freeze(); err != nil {
			return fmt.Errorf("suspend %s: %w", s.p.Name, err)
		}
		s.st.Status, s.st.Reason = state.Paused, state.ReasonUser
	} else {
		if err := s.cg.Thaw(); err != nil {
			return fmt.Errorf("resume %s: %w", s.p.Name, err)
		}
		s.st.Status, s.st.Reason = state.Running, state.ReasonUser
	}
	s.writeStateLocked()
	return nil
}
