package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newDomIDCmd) }

const domidLong = `Print the domain id of guest NAME, as virsh domid does: the host pid of its
init while it runs (libvirt's LXC driver uses its controller's pid), "-"
when it does not. The live XML (vmlite dumpxml) carries the same id.`

func newDomIDCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "domid NAME",
		Short: "Print a running guest's domain id",
		Long:  domidLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			d, err := app.Svc().Lookup(app.ctx(), args[0])
			if err != nil {
				return err
			}
			if d.Active() {
				fmt.Fprintln(app.Stdout, d.ID)
			} else {
				fmt.Fprintln(app.Stdout, "-")
			}
			return nil
		},
	}
}
