package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func init() { register(newDomIfAddrCmd) }

func newDomIfAddrCmd(app *App) *cobra.Command {
	var iface string
	cmd := &cobra.Command{
		Use:   "domifaddr NAME",
		Short: "List a running guest's interface addresses",
		Long: `List the addresses of a running guest's interfaces, as virsh domifaddr does:
name, MAC, protocol and address/prefix of each, read live from the guest's
network namespace (so addresses the guest configured itself, with DHCP for
example, are shown too). IPv6 link-local addresses are left out.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addrs, err := app.Svc().InterfaceAddresses(app.ctx(), args[0], iface)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(app.Stdout, 0, 0, 3, ' ', 0)
			fmt.Fprintln(w, " Name\tMAC address\tProtocol\tAddress")
			fmt.Fprintln(w, "-------------------------------------------------------------------------------")
			for _, a := range addrs {
				fam, cidr := a.Family, a.CIDR
				if fam == "" {
					fam, cidr = "-", "-"
				}
				fmt.Fprintf(w, " %s\t%s\t%s\t%s\n", a.Name, a.MAC, fam, cidr)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&iface, "interface", "", "only the guest interface NAME (eth0)")
	return cmd
}
