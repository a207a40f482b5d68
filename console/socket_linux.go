package console

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Listen creates the console socket at path, readable and writable by its
// owner only (the run directory is 0700 as well; the peer check in Serve is
// the last line). A stale socket left by a dead supervisor is replaced. The
// socket file is removed when the listener is closed.
func Listen(path string) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("remove stale console socket: %w", err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on console socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("console socket: %w", err)
	}
	return l, nil
}

// errPeer rejects a connection from another user.
var errPeer = errors.New("console client is neither root nor the supervisor's user")

// checkPeer admits uid 0 and the Mux's own uid (tests run unprivileged).
func checkPeer(conn net.Conn) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return fmt.Errorf("console client: %T has no peer credentials", conn)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("console client: %w", err)
	}
	var cred *unix.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return fmt.Errorf("console client: %w", err)
	}
	if cerr != nil {
		return fmt.Errorf("console client: %w", &os.SyscallError{Syscall: "getsockopt SO_PEERCRED", Err: cerr})
	}
	if cred.Uid != 0 && int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("%w (uid %d)", errPeer, cred.Uid)
	}
	return nil
}

// isTemporaryAccept reports accept errors worth waiting out.
func isTemporaryAccept(err error) bool {
	for _, e := range []error{unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM, unix.ECONNABORTED, unix.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// connRaw returns conn's raw descriptor access for writeNow, or nil when
// conn has none (tests drive a client without a connection).
func connRaw(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// writeNow writes the frame header hdr and payload p to the socket without
// waiting: it returns what the socket took, 0 when its buffer is full. The
// caller must be the only writer at that moment (see client.writeNow).
func writeNow(rc syscall.RawConn, hdr, p []byte) (int, error) {
	var n int
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for {
			n, werr = writevRaw(int(fd), hdr, p)
			if !errors.Is(werr, unix.EINTR) {
				return true // never wait: a full socket is the writer's job
			}
		}
	})
	n = max(n, 0)
	switch {
	case err != nil:
		return n, err
	case errors.Is(werr, unix.EAGAIN):
		return 0, nil
	case werr != nil:
		return n, &os.SyscallError{Syscall: "writev", Err: werr}
	}
	return n, nil
}
