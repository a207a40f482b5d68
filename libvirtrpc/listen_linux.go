package libvirtrpc

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Socket modes: libvirt-sock for root and the group (read-write),
// libvirt-sock-ro for everyone (read-only procedures only).
const (
	SockModeRW os.FileMode = 0o660
	SockModeRO os.FileMode = 0o666
)

// ListenUnix creates a unix socket at path with mode and group gid (-1:
// root's). An existing socket nobody answers on (a daemon killed with -9)
// is replaced; a live one, or anything that is not a socket, is refused.
func ListenUnix(path string, mode os.FileMode, gid int) (*net.UnixListener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket: move it away", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: another server answers on it (is vmlite serve or libvirtd running?)", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	}
	// Bind under a umask that leaves no window with a wider mode.
	old := unix.Umask(0o177)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(true)
	if gid >= 0 {
		if err := os.Chown(path, 0, gid); err != nil {
			l.Close()
			return nil, fmt.Errorf("chown %s: %w", path, err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return l, nil
}

// ListenCompat is ListenUnix for the libvirt-compatible paths
// (/run/libvirt/virtlxcd-sock): it refuses if anything is there already,
// a stale socket included, since that may be a real libvirt's.
func ListenCompat(path string, mode os.FileMode, gid int) (*net.UnixListener, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%s exists (a libvirt daemon's socket?): vmlite does not take it over; stop that daemon or drop --libvirt-compat", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return ListenUnix(path, mode, gid)
}

// GroupID returns the gid of group name, or -1 if there is no such group.
func GroupID(name string) int {
	g, err := user.LookupGroup(name)
	if err != nil {
		return -1
	}
	id, err := strconv.Atoi(g.Gid)
	if err != nil {
		return -1
	}
	return id
}

// PeerAuthorizer authorises unix peers from SO_PEERCRED: uid 0, or a
// process whose primary or supplementary groups include gid, may use
// mutating procedures; every other peer is read-only.
func PeerAuthorizer(gid int) func(nc net.Conn) (string, bool, error) {
	return func(nc net.Conn) (string, bool, error) {
		peer, rw := unixPeer(nc, gid)
		return peer, rw, nil
	}
}

func unixPeer(nc net.Conn, gid int) (string, bool) {
	{
		uc, ok := nc.(*net.UnixConn)
		if !ok {
			return nc.RemoteAddr().String(), false
		}
		raw, err := uc.SyscallConn()
		if err != nil {
			return "unix peer", false
		}
		var cred *unix.Ucred
		var cerr error
		_ = raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
		if cerr != nil || cred == nil {
			return "unix peer", false
		}
		peer := fmt.Sprintf("pid %d uid %d", cred.Pid, cred.Uid)
		if cred.Uid == 0 {
			return peer, true
		}
		if gid >= 0 && (int(cred.Gid) == gid || inGroups(int(cred.Pid), gid)) {
			return peer, true
		}
		return peer, false
	}
}

// inGroups reads the supplementary groups of pid.
func inGroups(pid, gid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Groups:"); ok {
			for _, f := range strings.Fields(v) {
				if f == strconv.Itoa(gid) {
					return true
				}
			}
		}
	}
	return false
}
