package cli

import (
	"github.com/spf13/cobra"
)

func init() { register(newNetDumpXMLCmd) }

func newNetDumpXMLCmd(app *App) *cobra.Command {
	var inactive bool
	cmd := &cobra.Command{
		Use:   "net-dumpxml NAME",
		Short: "Print a managed network's XML",
		Long: `Print the XML of network NAME, with what vmlite filled in (UUID, bridge
name, bridge MAC); net-define accepts it unchanged. Of an active network
it is the definition the network runs with (one defined again since runs
on with its old settings until restarted); --inactive prints the stored
one, for its next start.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := app.Svc().NetworkXML(app.ctx(), args[0], inactive)
			if err != nil {
				return err
			}
			_, err = app.Stdout.Write(b)
			return err
		},
	}
	cmd.Flags().BoolVar(&inactive, "inactive", false, "the stored definition, not the one an active network runs with")
	return cmd
}
