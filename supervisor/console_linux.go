package supervisor

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/creack/pty"

	"vmlite/console"
	"vmlite/plan"
)

// consolePort is one guest console: a pty allocated on the host. The
// supervisor keeps its own slave fd open for the guest's whole life, so the
// master never reports EIO (hang-up) when the guest's init closes and
// reopens /dev/console, and output written between boots is not lost.
type consolePort struct {
	name   string
	master *os.File
	slave  *os.File
	mux    *console.Mux
}

// setupConsoles allocates the ptys and starts their multiplexers.
func (s *Supervisor) setupConsoles() error {
	uid, gid := s.p.IDMap.HostRoot()
	for _, c := range s.p.Consoles {
		master, slave, err := pty.Open()
		if err != nil {
			return &plan.StepFailure{Step: "allocate console " + c.Name, XMLPath: c.XMLPath, Err: err}
		}
		port := &consolePort{name: c.Name, master: master, slave: slave}
		s.consoles = append(s.consoles, port)
		// The mux owns and closes the master; the slave is ours.
		s.hostRevert.Add("close console "+c.Name, slave.Close)
		// The guest's root must own its console, or a mapped guest's init
		// cannot reopen /dev/console (it would belong to an unmapped uid).
		if err := slave.Chown(int(uid), int(gid)); err != nil {
			return &plan.StepFailure{Step: "allocate console " + c.Name, XMLPath: c.XMLPath, Err: fmt.Errorf("chown pty to the guest's root: %w", err)}
		}
	}
	return s.startConsoleMuxes()
}

// startConsoleMuxes hands each master to a multiplexer serving the
// console's socket. Console 0 writes the guest's console log; further ports
// log to LOG-consoleN files beside it.
func (s *Supervisor) startConsoleMuxes() error {
	for i, c := range s.consoles {
		pc := s.p.Consoles[i]
		logPath := s.p.Paths.LogFile
		if i > 0 {
			logPath = strings.TrimSuffix(logPath, ".log") + "-" + pc.Name + ".log"
		}
		m, err := console.NewMux(console.Config{Master: c.master, LogPath: logPath, Name: s.p.Name, UserLogPath: pc.LogFile, UserLogAppend: pc.LogAppend})
		if err != nil {
			xp := pc.XMLPath
			if pc.LogFile != "" {
				xp += "/log/@file" // the likelier culprit; the message names the file either way
			}
			return &plan.StepFailure{Step: "start console " + pc.Name, XMLPath: xp, Err: err}
		}
		c.mux = m
		s.hostRevert.Add("close console "+pc.Name+" multiplexer", m.Close)
		l, err := console.Listen(pc.Socket)
		if err != nil {
			return &plan.StepFailure{Step: "start console " + pc.Name, XMLPath: pc.XMLPath, Err: err}
		}
		s.hostRevert.Add("remove console socket "+pc.Name, func() error {
			err := l.Close()
			_ = os.Remove(pc.Socket)
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		})
		go func() {
			// Closed by the guest's teardown: the normal end.
			if err := m.Serve(l); err != nil && !errors.Is(err, net.ErrClosed) {
				s.log.Printf("console %s: %v", pc.Name, err)
			}
		}()
	}
	return nil
}

// consoleClients counts attached clients per console.
func (s *Supervisor) consoleClients() map[string]int {
	out := map[string]int{}
	for _, c := range s.consoles {
		if c.mux != nil {
			out[c.name] = c.mux.Clients()
		}
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
