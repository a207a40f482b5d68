package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"vmlite/supervisor"
)

func init() {
	register(newSuspendCmd)
	register(newResumeCmd)
}

const suspendLong = `Suspend a running guest, as virsh suspend does: every process in it is
frozen through its cgroup (the freezer controller on cgroup v1,
cgroup.freeze on v2). A paused guest uses no CPU and keeps its memory; its
consoles stay attached and keep their scrollback and log. vmlite resume lets
it run again; stop and destroy work on a paused guest too (stop resumes it
first, so that its init can shut down).`

const resumeLong = `Resume a guest that vmlite suspend paused: its processes run again from
where they were frozen.`

func newSuspendCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "suspend NAME",
		Short: "Freeze every process of a running guest",
		Long:  suspendLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return app.pauseOp(args[0], supervisor.OpSuspend, "suspended")
		},
	}
}

func newResumeCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "resume NAME",
		Short: "Let a suspended guest run again",
		Long:  resumeLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return app.pauseOp(args[0], supervisor.OpResume, "resumed")
		},
	}
}

func (a *App) pauseOp(name string, op supervisor.Op, done string) error {
	if _, err := a.requireRunning(name); err != nil {
		return err
	}
	if _, err := a.call(name, supervisor.Request{Op: op}); err != nil {
		return fmt.Errorf("guest %q: %w", name, err)
	}
	fmt.Fprintf(a.Stdout, "Domain '%s' %s\n", name, done)
	return nil
}
