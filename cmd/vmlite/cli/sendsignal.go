package cli

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/internal/errdefs"
)

func init() { register(newSendSignalCmd) }

const sendSignalLong = `Send SIGNAL to process PID of guest NAME, PID as the guest sees it (1 is
its init), as virsh send-process-signal does. SIGNAL is a name (SIGTERM,
TERM, term, sigusr1) or a number. The process is looked up among the
guest's own processes only (its cgroup), so no host process can be reached.`

func newSendSignalCmd(app *App) *cobra.Command {
	var pid int
	cmd := &cobra.Command{
		Use:     "send-signal NAME --pid PID SIGNAL",
		Aliases: []string{"send-process-signal"}, // virsh's name
		Short:   "Send a signal to a process of a guest",
		Long:    sendSignalLong,
		Args:    cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			name := args[0]
			sig, err := parseSignal(args[1])
			if err != nil {
				return err
			}
			if pid <= 0 {
				return fmt.Errorf("--pid: give the process id as the guest sees it (1 is init): %w", errdefs.ErrInvalid)
			}
			g, err := app.requireRunning(name)
			if err != nil {
				return err
			}
			if g.Plan == nil {
				return fmt.Errorf("guest %q: no launch plan: %w", name, errdefs.ErrNotRunning)
			}
			m, err := cgroup.Open(g.Plan.Cgroup)
			if err != nil {
				return err
			}
			procs, err := m.Procs()
			if err != nil {
				return err
			}
			for _, hp := range procs {
				// A pidfd pins the process: once its guest pid is checked
				// through it, a reused host pid cannot be signalled.
				fd, err := unix.PidfdOpen(hp, 0)
				if err != nil {
					continue // gone meanwhile
				}
				if guestPID(hp) == pid {
					err = unix.PidfdSendSignal(fd, sig, nil, 0)
					unix.Close(fd)
					if err != nil {
						return fmt.Errorf("send %s to pid %d of %s: %w", unix.SignalName(sig), pid, name, err)
					}
					return nil
				}
				unix.Close(fd)
			}
			return fmt.Errorf("guest %q has no process %d: %w", name, pid, errdefs.ErrNotFound)
		},
	}
	cmd.Flags().IntVar(&pid, "pid", 0, "process id as seen in the guest (1 is its init)")
	return cmd
}

// parseSignal reads a signal as virsh users write it.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("signal %d: not a signal number: %w", n, errdefs.ErrInvalid)
		}
		return unix.Signal(n), nil
	}
	u := strings.ToUpper(s)
	if !strings.HasPrefix(u, "SIG") {
		u = "SIG" + u
	}
	if sig := unix.SignalNum(u); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("signal %q: not a signal name (e.g. SIGTERM, term, 15): %w", s, errdefs.ErrInvalid)
}

// guestPID is the pid of host process hp in its innermost pid namespace
// (the last NSpid field of /proc/PID/status); 0 when unknown.
func guestPID(hp int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", hp))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "NSpid:"); ok {
			fs := strings.Fields(rest)
			if len(fs) == 0 {
				return 0
			}
			n, _ := strconv.Atoi(fs[len(fs)-1])
			return n
		}
	}
	return 0
}
