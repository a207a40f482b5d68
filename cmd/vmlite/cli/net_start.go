package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newNetStartCmd) }

func newNetStartCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "net-start NAME",
		Short: "Start a managed network",
		Long: `Start network NAME: create its bridge with its MAC, MTU and addresses and
bring it up; for forward mode nat or route, turn on IPv4 forwarding
(net.ipv4.ip_forward, restored when the last such network stops); for nat,
add a masquerade rule for its IPv4 subnet to vmlite's own nftables table
"ip vmlite" (no other table is touched); with an IPv4 address, start
dnsmasq as its DHCP server, bound to the bridge alone and without DNS.

A bridge name that is taken or a subnet already routed on the host is
refused. If a step fails, the steps before it are undone.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := app.Svc().StartNetwork(app.ctx(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Network %s started\n", args[0])
			return nil
		},
	}
}
