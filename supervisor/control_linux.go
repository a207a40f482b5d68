package supervisor

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// listenControl opens the control socket (root only) and serves it.
func (s *Supervisor) listenControl() error {
	path := s.p.Paths.ControlSocket
	_ = os.Remove(path) // a stale socket of a dead supervisor
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return err
	}
	s.hostRevert.Add("close control socket", func() error {
		err := l.Close()
		_ = os.Remove(path)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		return err
	})
	go s.serveControl(l.(*net.UnixListener))
	return nil
}

func (s *Supervisor) serveControl(l *net.UnixListener) {
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Printf("control socket: %v", err)
			}
			return
		}
		go s.handleControl(conn)
	}
}

// peerAllowed admits root and the supervisor's own uid (tests run as either).
func peerAllowed(conn *net.UnixConn) bool {
	raw, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	_ = raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil || cred == nil {
		return false
	}
	return cred.Uid == 0 || int(cred.Uid) == os.Getuid()
}

func (s *Supervisor) handleControl(conn *net.UnixConn) {
	defer conn.Close()
	if !peerAllowed(conn) {
		s.respond(conn, Response{Error: "permission denied"})
		return
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		s.respond(conn, Response{Error: "bad request: " + err.Error()})
		return
	}
	switch req.Op {
	case OpStatus:
		s.respond(conn, Response{OK: true, State: s.snapshot(), Consoles: s.consoleClients()})
	case OpStop, OpDestroy:
		s.waiters.Add(1)
		defer s.waiters.Done()
		op := reqStop
		if req.Op == OpDestroy {
			op = reqDestroy
		}
		s.requestStop(op, req.Timeout)
		<-s.finished
		s.mu.Lock()
		forced := s.forced
		s.mu.Unlock()
		s.respond(conn, Response{OK: true, State: s.snapshot(), Forced: forced})
	case OpReboot:
		s.mu.Lock()
		before := s.st.Restarts
		s.mu.Unlock()
		s.requestStop(reqReboot, req.Timeout)
		// Answer once the guest is back (or gone for good).
		for {
			st := s.snapshot()
			if st.Restarts > before && st.Status == "running" {
				s.respond(conn, Response{OK: true, State: st})
				return
			}
			select {
			case <-s.finished:
				s.respond(conn, Response{Error: "guest did not come back: " + s.snapshot().Error, State: s.snapshot()})
				return
			case <-time.After(pollInterval):
			}
		}
	case OpSuspend, OpResume:
		if err := s.setPaused(req.Op == OpSuspend); err != nil {
			s.respond(conn, Response{Error: err.Error(), State: s.snapshot()})
			return
		}
		s.respond(conn, Response{OK: true, State: s.snapshot()})
	case OpAttachDevice, OpDetachDevice:
		if err := s.changeDevice(req.Op == OpAttachDevice, req.Device); err != nil {
			s.respond(conn, Response{Error: err.Error(), State: s.snapshot()})
			return
		}
		s.respond(conn, Response{OK: true, State: s.snapshot()})
	default:
		s.respond(conn, Response{Error: "unknown operation " + string(req.Op)})
	}
}

func (s *Supervisor) respond(conn net.Conn, r Response) {
	b, _ := json.Marshal(r)
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Write(append(b, '\n'))
}
