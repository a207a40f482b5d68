package supervisor

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// guestLog is a guest's own diagnostics log (plan.Paths.SupervisorLog),
// created on its first write: a guest whose supervisor has nothing to say
// about it gets no file. Creating a file is most of a mass boot's cost of
// a guest's log files on ext4 (an inode allocation that scans its block
// group past recently deleted inodes; bench/README.md, "Mass boot: the
// supervisor's and vmlite-init's share"), and the console log is the one
// file every guest needs. If the file cannot be opened, lines go to the
// supervisor's stderr (supervisors.log beside it), as before.
type guestLog struct {
	path string
	mu   sync.Mutex
	f    *os.File
	err  error // the open's failure, not retried
}

func newGuestLog(path string) *guestLog { return &guestLog{path: path} }

// Write implements io.Writer.
func (l *guestLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil && l.err == nil {
		l.f, l.err = os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	}
	if l.f == nil {
		return os.Stderr.Write(b)
	}
	return l.f.Write(b)
}

// Close closes the file if one was opened; later writes open it again.
func (l *guestLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.f
	l.f, l.err = nil, nil
	if f == nil {
		return nil
	}
	return f.Close()
}
