package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"vmlite/cmd/internal/front"
)

func init() {
	register(newStopCmd)
	register(newDestroyCmd)
	register(newRebootCmd)
}

func newStopCmd(app *App) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:     "stop NAME",
		Aliases: []string{"shutdown"}, // virsh shutdown
		Short:   "Shut a guest down through its init, then force after a timeout",
		Long: `Shut a guest down gracefully: vmlite sends the poweroff signal its init
understands (systemd SIGRTMIN+4, busybox init SIGUSR2, sysvinit SIGPWR; the
vmlite:stop metadata overrides it), once init has installed its handler,
waits up to --timeout, then kills everything in the guest.

stop returns when the guest's processes, links, cgroup and runtime files are
gone.

A guest whose supervisor died (killed) cannot be shut down gracefully:
stop then kills what is left of it, cleans up, and says so on stderr
("was not shut down gracefully").`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			start := time.Now()
			res, err := app.Svc().Shutdown(app.ctx(), name, timeout)
			if err != nil {
				return err
			}
			if res.Orphan {
				// No supervisor to shut it down gracefully: what was left
				// of it was killed. Never silently.
				fmt.Fprintf(app.Stderr, "warning: guest %s had lost its supervisor (killed?): it was not shut down gracefully; its processes were killed and its state cleaned up\n", name)
				fmt.Fprintf(app.Stdout, "Guest %s killed (its supervisor had died)\n", name)
				return nil
			}
			fmt.Fprintln(app.Stdout, front.Stopped(name, res.Forced, time.Since(start)))
			return nil
		},
	}
	secondsVar(cmd.Flags(), &timeout, "timeout", 0, "graceful stop bound in seconds, or a duration such as 2m (default: the guest's vmlite:stop timeout, or 30s)")
	return cmd
}

func newDestroyCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "destroy NAME",
		Short: "Stop a guest at once (SIGKILL to everything in it)",
		Long: `Stop a guest at once: every process in it is killed, then its links, cgroup
and runtime files are removed. Also cleans up a guest whose supervisor died.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			res, err := app.Svc().Destroy(app.ctx(), name)
			if err != nil {
				return err
			}
			if res.Orphan {
				fmt.Fprintf(app.Stdout, "Guest %s destroyed (its supervisor had died)\n", name)
				return nil
			}
			fmt.Fprintln(app.Stdout, front.Destroyed(name))
			return nil
		},
	}
}

func newRebootCmd(app *App) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "reboot NAME",
		Short: "Reboot a guest through its init (force after a timeout)",
		Long: `Ask the guest's init to reboot (systemd SIGINT, busybox init SIGTERM), wait up
to --timeout for it to go down, then boot it again with the same definition.
Console clients stay attached. Returns once the guest runs again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			id, err := app.Svc().Reboot(app.ctx(), name, timeout)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Guest %s rebooted (init pid %d)\n", name, id)
			return nil
		},
	}
	secondsVar(cmd.Flags(), &timeout, "timeout", 0, "bound on the guest's own shutdown before it is killed, in seconds or a duration (default as stop)")
	return cmd
}
