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
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(f.Fd()), b, oob, nil, 0); err != nil {
		return fmt.Errorf("send sync message %s: %w", m.Type, &os.SyscallError{Syscall: "sendmsg", Err: err})
	}
	return nil
}

// Recv reads one message and any fds that came with it. io.EOF means the
// peer closed its end (exited or exec'd).
func Recv(f *os.File) (Message, []int, error) {
	buf := make([]byte, maxPacket)
	oob := make([]byte, unix.CmsgSpace(4*maxRights))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
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
		var m Message
		if err := json.Unmarshal(buf[:n], &m); err != nil {
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
