package console

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Direct input. The multiplexer attaches its pty master to the replay it
// sends a new client (SCM_RIGHTS). A client that takes it (Attach) writes
// what the user types straight to the guest's pty, so a keystroke no
// longer wakes the supervisor on its way in: only the echo passes through
// it, to reach every client, the scrollback and the log. A pty write is
// atomic against the others (the tty's write lock), as the multiplexer's
// single writer made the socket's input. A client that does not take the
// descriptor (vmlite serve's relay, a plain read) loses nothing: the
// kernel closes a passed descriptor nobody receives. Resizes keep going
// through the socket (rare, and ordered among themselves there).

// sendWithMaster writes b (the replay) to conn with the master attached;
// where that cannot be done it writes b alone.
func (m *Mux) sendWithMaster(conn net.Conn, b []byte) error {
	uc, ok := conn.(*net.UnixConn)
	rc, err := m.master.SyscallConn()
	if !ok || err != nil {
		_, err := conn.Write(b)
		return err
	}
	n := 0
	var werr error
	if cerr := rc.Control(func(fd uintptr) {
		n, _, werr = uc.WriteMsgUnix(b, unix.UnixRights(int(fd)), nil)
	}); cerr != nil {
		n, werr = 0, nil // the master is closed: the replay without it
	}
	if werr != nil {
		return werr
	}
	// A stream socket may take less than all of a long replay.
	_, err = conn.Write(b[n:])
	return err
}

// fdConn is the client's end of the socket, read with recvmsg so that the
// master passed with the replay is taken. The recvmsg is a raw call in the
// poller's callback (rc): the socket never blocks, and a plain call would
// wake the runtime's monitor thread for every echoed keystroke after an
// idle spell (rawsys_linux.go), a thread the echo's way competes with for
// the CPUs.
type fdConn struct {
	*net.UnixConn
	rc     syscall.RawConn // nil: ReadMsgUnix
	oob    [64]byte
	master *atomic.Int32 // -1 until the master arrived
}

func newFdConn(uc *net.UnixConn, master *atomic.Int32) *fdConn {
	c := &fdConn{UnixConn: uc, master: master}
	if rc, err := uc.SyscallConn(); err == nil {
		c.rc = rc
	}
	return c
}

func (c *fdConn) Read(p []byte) (int, error) {
	if c.rc == nil {
		n, oobn, _, _, err := c.ReadMsgUnix(p, c.oob[:])
		if oobn > 0 {
			c.take(c.oob[:oobn])
		}
		return max(n, 0), err // n is -1 with some errors
	}
	var n, oobn int
	var err error
	rerr := c.rc.Read(func(fd uintptr) bool {
		for {
			n, oobn, err = recvmsgRaw(int(fd), p, c.oob[:])
			if err != unix.EINTR {
				return err != unix.EAGAIN // false: wait until readable
			}
		}
	})
	if oobn > 0 {
		c.take(c.oob[:oobn])
	}
	switch {
	case rerr != nil:
		return 0, rerr
	case err != nil:
		return 0, os.NewSyscallError("recvmsg", err)
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

// take keeps the first pty descriptor passed and closes any other.
func (c *fdConn) take(oob []byte) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for i := range msgs {
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			var st unix.Stat_t
			if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && c.master.CompareAndSwap(-1, int32(fd)) {
				continue
			}
			unix.Close(fd)
		}
	}
}

// writeDirect writes p to the guest's pty while the session's input has
// not gone through the socket (then the two paths could overtake each
// other; input waits for the replay, so the master is there first when
// the multiplexer sends one). It returns what is still to be sent as
// frames: all of p when there is no master, or when the pty does not take
// it at once (a guest that reads no input: the multiplexer's writer waits
// for it instead) or fails; from then on all input goes through the
// socket.
func (s *attachSession) writeDirect(p []byte) []byte {
	fd := int(s.master.Load())
	if fd < 0 || s.framed {
		return p
	}
	for len(p) > 0 {
		// The master is non-blocking (the multiplexer's, pollable): a
		// raw write, as the socket's reads (fdConn).
		n, err := writeRaw(fd, p)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		p = p[n:]
	}
	return p
}
