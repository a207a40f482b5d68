package libvirtrpc

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawIO reads and writes a unix socket with raw system calls inside the
// netpoller's RawConn callbacks, waiting through the netpoller only when
// the socket is not ready. A plain net.Conn read or write goes through
// the runtime's syscall entry, whose first use after the process idled
// wakes the runtime's sysmon thread (a futex wake on the call's path,
// then sysmon's 20 µs sleeps on the other core): with virsh's one call
// at a time (list --all: a GET_STATE per guest, each after the last
// reply) that is every call. The socket is non-blocking (Go's net
// package made it so), so a raw read or write returns at once
// (bench/README.md, the serve section).
type rawIO struct {
	nc net.Conn
	rc syscall.RawConn

	// The callbacks and their results live here, made once: a closure
	// per call would be an allocation per call.
	rbuf     []byte
	rn       int
	rerr     error
	readFn   func(fd uintptr) bool
	wbuf     []byte
	werr     error
	writeFn  func(fd uintptr) bool
	deadline bool
}

// newRawIO returns nc's raw I/O, or nil for a connection with no file
// descriptor of its own (TLS), and in race-detector builds: the detector
// sees a socket's read and write as synchronisation only through
// net.Conn's calls, so a client and a server in one test process would
// race on everything the socket orders.
func newRawIO(nc net.Conn) *rawIO {
	uc, ok := nc.(*net.UnixConn)
	if !ok || raceEnabled {
		return nil
	}
	return makeRawIO(uc)
}

func makeRawIO(uc *net.UnixConn) *rawIO {
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawIO{nc: uc, rc: rc}
	r.readFn = func(fd uintptr) bool {
		for {
			n, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(r.rbuf))), uintptr(len(r.rbuf)))
			switch e {
			case 0:
				r.rn, r.rerr = int(n), nil
				if n == 0 {
					r.rerr = io.EOF
				}
				return true
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			r.rn, r.rerr = 0, e
			return true
		}
	}
	r.writeFn = func(fd uintptr) bool {
		for len(r.wbuf) > 0 {
			n, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(r.wbuf))), uintptr(len(r.wbuf)))
			switch e {
			case 0:
				r.wbuf = r.wbuf[n:]
				continue
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				// The client is not reading: wait, for writeTimeout at
				// most (set only now, a timer change per call spared).
				if !r.deadline {
					_ = r.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
					r.deadline = true
				}
				return false
			}
			r.werr = e
			return true
		}
		return true
	}
	return r
}

// Read implements io.Reader (for the reader's bufio.Reader).
func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.rbuf = p
	err := r.rc.Read(r.readFn)
	r.rbuf = nil
	if err != nil {
		return 0, err
	}
	return r.rn, r.rerr
}

// write puts all of f on the socket; the caller serialises writes.
func (r *rawIO) write(f []byte) error {
	r.wbuf, r.werr, r.deadline = f, nil, false
	err := r.rc.Write(r.writeFn)
	r.wbuf = nil
	if r.deadline {
		_ = r.nc.SetWriteDeadline(time.Time{})
	}
	return errors.Join(err, r.werr)
}
