package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"vmlite/supervisor"
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
gone.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			start := time.Now()
			resp, orphan, err := app.stopGuest(name, supervisor.Request{Op: supervisor.OpStop, Timeout: timeout})
			if err != nil {
				return err
			}
			if orphan {
				// No supervisor to shut it down gracefully: what was left
				// of it was killed. Never silently.
				fmt.Fprintf(app.Stderr, "warning: guest %s had lost its supervisor (killed?): it was not shut down gracefully; its processes were killed and its state cleaned up\n", name)
				fmt.Fprintf(app.Stdout, "Guest %s killed (its supervisor had died)\n", name)
				return nil
			}
			how := "shut down"
			if resp.Forced {
				how = "killed after its stop timeout"
			}
			fmt.Fprintf(app.Stdout, "Guest %s %s (%v)\n", name, how, time.Since(start).Round(time.Millisecond))
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
			_, orphan, err := app.stopGuest(name, supervisor.Request{Op: supervisor.OpDestroy})
			if err != nil {
				return err
			}
			if orphan {
				fmt.Fprintf(app.Stdout, "Guest %s destroyed (its supervisor had died)\n", name)
				return nil
			}
			fmt.Fprintf(app.Stdout, "Guest %s destroyed\n", name)
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
			if _, err := app.requireRunning(name); err != nil {
				return err
			}
			resp, err := app.call(name, supervisor.Request{Op: supervisor.OpReboot, Timeout: timeout})
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Guest %s rebooted (init pid %d)\n", name, resp.State.InitPID)
			return nil
		},
	}
	secondsVar(cmd.Flags(), &timeout, "timeout", 0, "bound on the guest's own shutdown before it is killed, in seconds or a duration (default as stop)")
	return cmd
}

// stopGuest sends a stop or destroy request to the guest's supervisor. Only
// when none answers does it look further (one socket round trip is the
// common case, not two reads of the guest's state and plan first): a guest
// whose supervisor died is cleaned up (orphan is then true), anything else
// gets the reason it is not running.
func (a *App) stopGuest(name string, req supervisor.Request) (resp *supervisor.Response, orphan bool, err error) {
	if err := validName(name); err != nil {
		return nil, false, err
	}
	resp, err = a.call(name, req)
	if err == nil || !errors.Is(err, supervisor.ErrNoSupervisor) {
		return resp, false, err
	}
	if oerr := a.stopOrphan(name); oerr != errNotOrphan {
		return nil, oerr == nil, oerr
	}
	if _, rerr := a.requireRunning(name); rerr != nil {
		return nil, false, rerr
	}
	return nil, false, err
}
