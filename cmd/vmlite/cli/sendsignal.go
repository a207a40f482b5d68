package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

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
			return app.Svc().SendSignal(app.ctx(), name, pid, sig)
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
