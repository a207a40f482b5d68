package supervisor

import (
	"fmt"
	"io"
	"log"
	"os"

	"github.com/creack/pty"

	"vmlite/initsys"
)

// consolePort is one guest console: a pty allocated on the host. The
// supervisor keeps its own slave fd open for the guest's whole life, so the
// master never reports EIO (hang-up) when the guest's init closes and
// reopens /dev/console, and output written between boots is not lost.
type consolePort struct {
	name   string
	master *os.File
	slave  *os.File
}

// setupConsoles allocates the ptys and starts their multiplexers.
func (s *Supervisor) setupConsoles() error {
	uid, gid := s.p.IDMap.HostRoot()
	for _, c := range s.p.Consoles {
		master, slave, err := pty.Open()
		if err != nil {
			return &initsys.StepError{Step: "allocate console " + c.Name, XMLPath: c.XMLPath, Err: err}
		}
		port := &consolePort{name: c.Name, master: master, slave: slave}
		s.consoles = append(s.consoles, port)
		s.hostRevert.Add("close console "+c.Name, func() error {
			slave.Close()
			return master.Close()
		})
		// The guest's root must own its console, or a mapped guest's init
		// cannot reopen /dev/console (it would belong to an unmapped uid).
		if err := slave.Chown(int(uid), int(gid)); err != nil {
			return &initsys.StepError{Step: "allocate console " + c.Name, XMLPath: c.XMLPath, Err: fmt.Errorf("chown pty to the guest's root: %w", err)}
		}
	}
	return s.startConsoleMuxes()
}

// startConsoleMuxes drains each console into the log.
func (s *Supervisor) startConsoleMuxes() error {
	log0, err := os.OpenFile(s.p.Paths.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return &initsys.StepError{Step: "open console log", Err: err}
	}
	s.hostRevert.Add("close console log", log0.Close)
	go func() {
		if _, err := io.Copy(log0, s.consoles[0].master); err != nil {
			log.Printf("console0: %v", err)
		}
	}()
	return nil
}

// consoleClients counts attached clients per console.
func (s *Supervisor) consoleClients() map[string]int {
	out := map[string]int{}
	for _, c := range s.consoles {
		out[c.name] = 0
	}
	return out
}

// consolePaths lists the slaves' host paths, in console order.
func (s *Supervisor) consolePaths() []string {
	out := make([]string, len(s.consoles))
	for i, c := range s.consoles {
		out[i] = c.slave.Name()
	}
	return out
}
