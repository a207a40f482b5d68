package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"vmlite/console"
	"vmlite/internal/errdefs"
	"vmlite/state"
)

func init() { register(newLogsCmd) }

// logsPollInterval is how often logs -f looks for new output. The log is a
// plain file; polling it costs one stat and one read per interval.
const logsPollInterval = 250 * time.Millisecond

func newLogsCmd(app *App) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print a guest's console log",
		Long: `Print the console log of a guest, running or stopped: everything the guest
wrote to its console (console0), kept in /var/log/vmlite/NAME.console.log.
The log outlives the guest and is capped at 1 MiB: when it grows past that it
is moved to NAME.console.log.1 (replacing the older one), and logs prints
that part first.

With --follow, logs keeps printing new output as the guest writes it, and
exits once the guest has stopped and the rest of its output is printed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.runLogs(args[0], follow)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new output until the guest stops")
	return cmd
}

func (a *App) runLogs(name string, follow bool) error {
	l := a.Layout
	path := l.ConsoleLog(name)
	// A guest with a log is known even if nothing else of it is left (a
	// transient guest that stopped).
	if _, err := a.Svc().Lookup(a.ctx(), name); err != nil && (!errors.Is(err, errdefs.ErrNotFound) || !anyExists(path, console.RotatedPath(path))) {
		return err
	}
	t := &logTail{path: path, out: a.Stdout}
	defer t.close()
	if err := t.start(); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	for {
		// Check the supervisor before reading: output written before it
		// exited is then read below, and nothing is left behind.
		held, err := state.Held(l.LockFile(name))
		if err != nil {
			return err
		}
		if err := t.poll(); err != nil {
			return err
		}
		if !held {
			return nil
		}
		time.Sleep(logsPollInterval)
	}
}

// logTail prints a rotating log file and follows it.
type logTail struct {
	path string
	out  io.Writer
	f    *os.File // the current log, read up to its end so far; nil if none yet
}

// start prints the rotated part, then the current log.
func (t *logTail) start() error {
	cur, err := openIfExists(t.path)
	if err != nil {
		return err
	}
	t.f = cur
	old, err := openIfExists(console.RotatedPath(t.path))
	if err != nil {
		return err
	}
	if old != nil {
		defer old.Close()
		// A rotation between the two opens makes both the same file: print it once.
		if !t.same(old) {
			if err := t.copy(old); err != nil {
				return err
			}
		}
	}
	if t.f != nil {
		return t.copy(t.f)
	}
	return nil
}

// poll prints what was appended since the last call, following a rotation:
// the rest of the old file first, then the new one from its start.
func (t *logTail) poll() error {
	if t.f != nil {
		if err := t.copy(t.f); err != nil {
			return err
		}
	}
	st, err := os.Stat(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // not created yet, or between rotation's rename and create
	}
	if err != nil {
		return fmt.Errorf("console log: %w", err)
	}
	if t.f != nil {
		if cur, err := t.f.Stat(); err == nil && os.SameFile(cur, st) {
			return nil
		}
		// Rotated: t.f is now the .1 file; what was appended to it since the
		// copy above is printed before the new file.
		if err := t.copy(t.f); err != nil {
			return err
		}
		t.f.Close()
		t.f = nil
	}
	f, err := openIfExists(t.path)
	if err != nil || f == nil {
		return err
	}
	t.f = f
	return t.copy(f)
}

func (t *logTail) same(f *os.File) bool {
	if t.f == nil {
		return false
	}
	a, err1 := t.f.Stat()
	b, err2 := f.Stat()
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

func (t *logTail) copy(f *os.File) error {
	if _, err := io.Copy(t.out, f); err != nil {
		return fmt.Errorf("print console log: %w", err)
	}
	return nil
}

func (t *logTail) close() {
	if t.f != nil {
		t.f.Close()
	}
}

// openIfExists opens path for reading; a missing file is (nil, nil).
func openIfExists(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("console log: %w", err)
	}
	return f, nil
}
