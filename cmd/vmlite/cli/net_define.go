package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newNetDefineCmd) }

func newNetDefineCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "net-define FILE",
		Short: "Define a managed network from libvirt network XML",
		Long: `Define a managed network from the libvirt network XML in FILE ("-" reads
standard input) and store it under /var/lib/vmlite/networks. The XML is
checked strictly: every element and attribute vmlite does not implement is
an error, and all errors are reported at once with their line and path.

Defining a network that exists replaces its definition (a running network
keeps its old settings until it is restarted). A missing <uuid>, bridge
name or <mac> is generated, and kept across redefinitions. Defining a
running transient network (net-create) makes it persistent.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, data, err := app.readXMLArg(args[0], "network")
			if err != nil {
				return err
			}
			n, err := app.Svc().DefineNetwork(app.ctx(), file, data)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Network %s defined from %s\n", n.Name, file)
			return nil
		},
	}
}
