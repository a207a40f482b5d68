package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"vmlite/domain"
)

func init() { register(newDomUUIDCmd) }

const domuuidLong = `Print the uuid of guest NAME, defined or running, as virsh domuuid does
(dashed, lower case).`

func newDomUUIDCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "domuuid NAME",
		Short: "Print a guest's uuid",
		Long:  domuuidLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			d, err := app.Svc().Lookup(app.ctx(), args[0])
			if err != nil {
				return err
			}
			u, err := domain.ParseUUID(d.UUID)
			if err != nil {
				return fmt.Errorf("guest %q has no valid uuid: %w", args[0], err)
			}
			fmt.Fprintln(app.Stdout, u)
			return nil
		},
	}
}
