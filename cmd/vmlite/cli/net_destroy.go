package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newNetDestroyCmd) }

func newNetDestroyCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "net-destroy NAME",
		Short: "Stop a managed network",
		Long: `Stop network NAME: stop its dnsmasq, remove its masquerade rule (and
vmlite's nftables table with its last rule), restore IPv4 forwarding when no
other network needs it, and delete its bridge. Guests on the network lose
their connection to it. The definition stays; a transient network
(net-create) is gone.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.Svc().DestroyNetwork(app.ctx(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Network %s destroyed\n", args[0])
			return nil
		},
	}
}
