package console

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// logFile appends console output to path, keeping it under max bytes: when
// it reaches the cap, path is renamed to path.1 (replacing the older one) and
// a fresh path is started. The log therefore holds between max and 2*max
// bytes of the most recent output across both files; `vmlite logs` prints
// path.1 then path.
//
// Writes go straight to the file (no buffering), one per batch of output the
// pump reads (see readBatches): `vmlite logs -f` sees a line as soon as the
// guest prints it, and a burst costs a write per batch, not per pty read. A failing disk must not stall the guest, so after an error
// the log stops and the error is reported by close. Not safe for concurrent
// use: only the Mux's output pump writes it.
type logFile struct {
	path string
	max  int64
	// perm and flags are the new file's mode and extra open flags.
	perm  os.FileMode
	flags int
	f     *os.File
	size  int64
	err   error // first error; logging stops after it
}

func openLog(path string, max int64) (*logFile, error) {
	l := &logFile{path: path, max: max, perm: 0o640}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

// openUserLog opens a log file the domain names (<console><log>): mode
// 0600 as it holds what the guest prints, never followed through a symlink,
// and truncated unless appending.
func openUserLog(path string, max int64, appendTo bool) (*logFile, error) {
	l := &logFile{path: path, max: max, perm: 0o600, flags: syscall.O_NOFOLLOW}
	if !appendTo {
		l.flags |= os.O_TRUNC
	}
	if err := l.open(); err != nil {
		return nil, err
	}
	l.flags &^= os.O_TRUNC // a rotation starts a new file anyway
	return l, nil
}

func (l *logFile) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|l.flags, l.perm)
	if err != nil {
		return fmt.Errorf("open console log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat console log: %w", err)
	}
	l.f, l.size = f, st.Size()
	if !st.Mode().IsRegular() {
		// Never rotate a device or pipe (LogPath /dev/null): renaming it
		// would replace the host's /dev/null with a regular file. (lead fix)
		l.max = 0
	}
	return nil
}

// RotatedPath is where a console log at path keeps its previous part.
func RotatedPath(path string) string { return path + ".1" }

// Write appends p, rotating whenever the file reaches max: a batch of output
// larger than what is left under the cap is split across the two files, so
// that neither ever exceeds max.
func (l *logFile) Write(p []byte) {
	for l.err == nil && len(p) > 0 {
		k := len(p)
		if l.max > 0 {
			if l.size >= l.max {
				if err := l.rotate(); err != nil {
					l.err = err
					return
				}
			}
			k = int(min(int64(k), l.max-l.size))
		}
		n, err := l.f.Write(p[:k])
		l.size += int64(n)
		p = p[n:]
		if err != nil {
			l.err = fmt.Errorf("write console log: %w", err)
		}
	}
}

func (l *logFile) rotate() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close console log: %w", err)
	}
	l.f = nil
	if err := os.Rename(l.path, RotatedPath(l.path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotate console log: %w", err)
	}
	return l.open()
}

func (l *logFile) Close() error {
	if l.f != nil {
		if err := l.f.Close(); err != nil && l.err == nil {
			l.err = fmt.Errorf("close console log: %w", err)
		}
		l.f = nil
	}
	return l.err
}
