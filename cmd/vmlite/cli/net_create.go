package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newNetCreateCmd) }

func newNetCreateCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "net-create FILE",
		Short: "Create and start a transient network from libvirt network XML",
		Long: `Create a transient managed network from the libvirt network XML in FILE
("-" reads standard input) and start it, as net-start does: it runs but is
not defined (no file under /var/lib/vmlite/networks), and it is gone once
net-destroy stops it or the host reboots. The XML is checked as net-define
checks it. Its name, UUID and bridge must not be another network's.

net-define of a running transient network makes it persistent;
net-undefine of a running persistent one makes it transient.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, data, err := app.readXMLArg(args[0], "network")
			if err != nil {
				return err
			}
			n, err := app.Svc().CreateNetwork(app.ctx(), file, data)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Network %s created from %s\n", n.Name, file)
			return nil
		},
	}
}
