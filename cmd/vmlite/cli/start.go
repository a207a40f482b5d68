package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"vmlite/cmd/internal/front"
	"vmlite/internal/errdefs"
	"vmlite/service"
)

func init() { register(newStartCmd) }

func newStartCmd(app *App) *cobra.Command {
	var attach bool
	cmd := &cobra.Command{
		Use:     "start FILE|NAME",
		Aliases: []string{"create"}, // virsh create FILE
		Short:   "Boot a defined guest, or a transient one from a domain XML file",
		Long: `Boot a guest. NAME starts a guest stored with 'vmlite define'; FILE (a path
to a domain XML file) starts a transient guest, as 'virsh create' does.

start returns once the guest's init runs. A failure names the set-up step
and the XML element it came from, and leaves nothing behind.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStart(app, args[0], attach)
		},
	}
	cmd.Flags().BoolVar(&attach, "console", false, "attach to the console right after boot (no output is missed)")
	return cmd
}

func runStart(app *App, arg string, attach bool) error {
	var (
		res *service.Started
		err error
	)
	// A bad VMLITE_GUESTS_PER_SUPERVISOR or VMLITE_INIT_STAGES is reported before anything else.
	if _, err := service.GuestsPerSupervisor(); err != nil {
		return err
	}
	if _, err := service.InitStages(); err != nil {
		return err
	}
	if front.IsFileArg(arg) {
		var data []byte
		data, err = os.ReadFile(arg)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s: no such file", errdefs.ErrNotFound, arg)
		}
		if err != nil {
			return plainUserError(err.Error())
		}
		res, err = app.Svc().Create(app.ctx(), arg, data)
	} else {
		res, err = app.Svc().Start(app.ctx(), arg)
	}
	if res != nil {
		app.printWarnings(res.Warnings)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(app.Stdout, "Guest %s started (init pid %d)\n", res.Name, res.ID)
	if attach {
		return app.attachConsole(res.Name, "console0")
	}
	return nil
}
