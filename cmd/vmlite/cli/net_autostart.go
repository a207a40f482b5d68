package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newNetAutostartCmd) }

func newNetAutostartCmd(app *App) *cobra.Command {
	var disable bool
	cmd := &cobra.Command{
		Use:   "net-autostart NAME",
		Short: "Mark a managed network to start at boot",
		Long: `Mark network NAME to be started when vmlite's autostart runs at boot
(--disable removes the mark). The mark is the file
/var/lib/vmlite/networks/autostart/NAME.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.Svc().SetNetworkAutostart(app.ctx(), args[0], !disable); err != nil {
				return err
			}
			if disable {
				fmt.Fprintf(app.Stdout, "Network %s unmarked as autostarted\n", args[0])
			} else {
				fmt.Fprintf(app.Stdout, "Network %s marked as autostarted\n", args[0])
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&disable, "disable", false, "remove the autostart mark")
	return cmd
}
