package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxPacket bounds one sync packet; a plan is a few KiB.
const maxPacket = 1 << 20

// maxRights is the most fds one packet carries (the kernel's SCM_MAX_FD):
// the root tree and one tree per bind mount.
const maxRights = 253

// SocketPair returns a connected SOCK_SEQPACKET pair: parent end, child end.
// Both are close-on-exec; the child end is passed through ExtraFiles, which
// dup2s it without the flag.
func SocketPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("sync socketpair: %w", &os.SyscallError{Syscall: "socketpair", Err: err})
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

// Send writes one message, with optional fds as SCM_RIGHTS.
func Send(f *os.File, m Message, fds ...int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode sync message: %w", err)
	}
	if len(b) > inlineMax {
		// More than a socket buffer takes in one packet (a plan with a
		// thousand interfaces, a huge <description>): the message goes in
		// a sealed memfd, the last of the rights, and the packet says so.
		mfd, err := sealedMemfd(b)
		if err != nil {
			return fmt.Errorf("send sync message %s (%d bytes): %w", m.Type, len(b), err)
		}
		defer unix.Close(mfd)
		b, fds = []byte(memfdMarker), append(fds[:len(fds):len(fds)], mfd)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(f.Fd()), b, oob, nil, 0); err != nil {
		return fmt.Errorf("send sync message %s: %w", m.Type, &os.SyscallError{Syscall: "sendmsg", Err: err})
	}
	return nil
}

// inlineMax is the largest message sent inline: well below the default
// socket buffer (net.core.wmem_default, 208 KiB), which bounds a packet.
const inlineMax = 64 << 10

// memfdMarker is the packet of a message that travels in a memfd. It is
// not JSON, so it cannot be mistaken for an inline message.
const memfdMarker = "memfd"

// maxMemfdMessage bounds what Recv reads from a memfd.
const maxMemfdMessage = 1 << 30

// sealedMemfd returns a memfd holding b, sealed against any change.
func sealedMemfd(b []byte) (int, error) {
	fd, err := unix.MemfdCreate("vmlite-sync", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, &os.SyscallError{Syscall: "memfd_create", Err: err}
	}
	for off := 0; off < len(b); {
		n, err := unix.Pwrite(fd, b[off:], int64(off))
		if err != nil {
			unix.Close(fd)
			return -1, &os.SyscallError{Syscall: "pwrite", Err: err}
		}
		off += n
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		unix.Close(fd)
		return -1, &os.SyscallError{Syscall: "fcntl F_ADD_SEALS", Err: err}
	}
	return fd, nil
}

// readMemfd reads a sealed memfd's whole content.
func readMemfd(fd int) ([]byte, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.SyscallError{Syscall: "fstat", Err: err}
	}
	if st.Size < 0 || st.Size > maxMemfdMessage {
		return nil, fmt.Errorf("sync message of %d bytes", st.Size)
	}
	b := make([]byte, st.Size)
	for off := 0; off < len(b); {
		n, err := unix.Pread(fd, b[off:], int64(off))
		if err != nil {
			return nil, &os.SyscallError{Syscall: "pread", Err: err}
		}
		if n == 0 {
			return nil, fmt.Errorf("sync memfd: %d of %d bytes", off, len(b))
		}
		off += n
	}
	return b, nil
}

// Recv reads one message and any fds that came with it. io.EOF means the
// peer closed its end (exited or exec'd).
//
// It peeks at the packet's length first (MSG_TRUNC) and reads it into a
// buffer of that size: a buffer of maxPacket for every message was a
// megabyte allocated and zeroed per call, the garbage that drove most of
// a shared supervisor's collections during a mass boot, and page faults in
// every __init (bench/README.md, "Mass boot: the supervisor's and
// vmlite-init's share").
func Recv(f *os.File) (Message, []int, error) {
	fd := int(f.Fd())
	oob := make([]byte, unix.CmsgSpace(4*maxRights))
	for {
		// Without a control buffer the peek installs none of the fds.
		size, _, _, _, err := unix.Recvmsg(fd, nil, nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return Message{}, nil, fmt.Errorf("receive sync message: %w", &os.SyscallError{Syscall: "recvmsg", Err: err})
		}
		// A packet is never empty (JSON or the memfd marker): 0 is the
		// peer's close. One byte still reads a (forbidden) empty packet
		// with its fds, so that none is left queued.
		buf := make([]byte, min(max(size, 1), maxPacket))
		n, oobn, flags, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return Message{}, nil, fmt.Errorf("receive sync message: %w", &os.SyscallError{Syscall: "recvmsg", Err: err})
		}
		if n == 0 && oobn == 0 {
			return Message{}, nil, io.EOF
		}
		fds, err := ParseRights(oob[:oobn])
		if err != nil {
			return Message{}, nil, fmt.Errorf("parse sync control message: %w", err)
		}
		if flags&unix.MSG_TRUNC != 0 {
			return Message{}, fds, fmt.Errorf("receive sync message: a packet of more than %d bytes", maxPacket)
		}
		msg := buf[:n]
		if string(msg) == memfdMarker {
			if len(fds) == 0 {
				return Message{}, nil, fmt.Errorf("decode sync message: a memfd message without its memfd")
			}
			mfd := fds[len(fds)-1]
			fds = fds[:len(fds)-1]
			msg, err = readMemfd(mfd)
			unix.Close(mfd)
			if err != nil {
				return Message{}, fds, fmt.Errorf("receive sync message: %w", err)
			}
		}
		var m Message
		if err := json.Unmarshal(msg, &m); err != nil {
			return Message{}, fds, fmt.Errorf("decode sync message: %w", err)
		}
		return m, fds, nil
	}
}

// ParseRights returns the fds passed in the SCM_RIGHTS control messages of
// oob (other control messages are skipped); nil for none.
func ParseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, c := range cmsgs {
		if rights, err := unix.ParseUnixRights(&c); err == nil {
			fds = append(fds, rights...)
		}
	}
	return fds, nil
}
