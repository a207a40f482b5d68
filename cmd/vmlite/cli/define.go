package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newDefineCmd) }

const defineLong = `Validate the domain XML FILE (- for standard input) and store it as a
persistent guest definition under /var/lib/vmlite/domains/NAME.xml, written
atomically. Defining a name that exists replaces its definition, as virsh
define does; a running guest keeps running with the definition it was
started with until it is restarted. A definition without <uuid> gets a random
one (kept when the name is redefined); a uuid that another guest has is
refused. Problems are reported as validate reports them, and nothing is
stored.`

func newDefineCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "define FILE",
		Short: "Store a guest definition from domain XML",
		Long:  defineLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			b, err := app.readDomainFile(args[0])
			if err != nil {
				return err
			}
			res, err := app.Svc().Define(app.ctx(), displayName(args[0]), b)
			if err := app.reportParse(args[0], res.Warnings, err); err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Domain '%s' defined from %s (uuid %s)\n", res.Name, displayName(args[0]), res.UUID)
			return nil
		},
	}
}
