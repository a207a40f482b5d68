package console

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// readRaw and writevRaw are read(2) and writev(2) on a non-blocking
// descriptor, made without telling the Go scheduler (RawSyscall). A plain
// system call marks the thread as possibly blocked; with the supervisor's
// single P, the runtime's monitor then hands the P to another thread
// whenever the call takes more than a tick (20 µs, a common length for a
// pty read that first waits for the kernel's flush, or a socket write that
// wakes the client), which costs futex wake-ups and context switches per
// chunk of output and keeps the monitor polling every 20 µs. These calls
// never wait for the other side (a read at most waits for the kernel's own
// flush of the pty), so holding the P through them is cheaper. The log
// file's writes stay plain calls: a busy disk may block them.
func readRaw(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// writevRaw writes the buffers in order; see readRaw. Empty buffers are
// skipped.
func writevRaw(fd int, bufs ...[]byte) (int, error) {
	var iov [4]unix.Iovec
	k := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		iov[k].Base = &b[0]
		iov[k].SetLen(len(b))
		k++
	}
	if k == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(k))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// writeRaw is write(2) made as readRaw is, on a non-blocking descriptor.
func writeRaw(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// recvmsgRaw is recvmsg(2) on a non-blocking socket, made as readRaw is;
// passed descriptors arrive close-on-exec.
func recvmsgRaw(fd int, p, oob []byte) (n, oobn int, err error) {
	var msg unix.Msghdr
	var iov unix.Iovec
	if len(p) > 0 {
		iov.Base = &p[0]
		iov.SetLen(len(p))
		msg.Iov = &iov
		msg.Iovlen = 1
	}
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	r, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_CMSG_CLOEXEC)
	if e != 0 {
		return -1, 0, e
	}
	return int(r), int(msg.Controllen), nil
}
