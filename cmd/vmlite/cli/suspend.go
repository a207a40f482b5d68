package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
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
			return app.pauseOp(args[0], app.Svc().Suspend, "suspended")
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
			return app.pauseOp(args[0], app.Svc().Resume, "resumed")
		},
	}
}

func (a *App) pauseOp(name string, op func(context.Context, string) error, done string) error {
	if err := op(a.ctx(), name); err != nil {
		return err
	}
	fmt.Fprintf(a.Stdout, "Domain '%s' %s\n", name, done)
	return nil
}
