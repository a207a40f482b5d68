package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newNetUndefineCmd) }

func newNetUndefineCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "net-undefine NAME",
		Short: "Remove a managed network's definition",
		Long: `Remove the definition of network NAME, its autostart mark and the record of
the addresses it gave guests. A running network runs on as a transient
one, as in libvirt (net-list shows it with Persistent "no"), until
net-destroy stops it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.Svc().UndefineNetwork(app.ctx(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Network %s has been undefined\n", args[0])
			return nil
		},
	}
}
