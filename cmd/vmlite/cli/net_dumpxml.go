package cli

import (
	"github.com/spf13/cobra"
)

func init() { register(newNetDumpXMLCmd) }

func newNetDumpXMLCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "net-dumpxml NAME",
		Short: "Print a managed network's XML",
		Long: `Print the stored XML of network NAME, with what vmlite filled in (UUID,
bridge name, bridge MAC); net-define accepts it unchanged.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := app.Svc().NetworkXML(app.ctx(), args[0])
			if err != nil {
				return err
			}
			_, err = app.Stdout.Write(b)
			return err
		},
	}
}
