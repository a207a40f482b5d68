package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"vmlite/service"
)

func init() { register(newUndefineCmd) }

const undefineLong = `Remove the stored definition of guest NAME (and its autostart mark). A
running guest is refused: stop it first. The guest's console log is kept.
--remove-storage also removes the guest's own copy-on-write layer (a guest
from an image: /var/lib/vmlite/layers/NAME) and the clone snapshots no
other guest uses; the image itself stays (vmlite image rm removes it).
A definition that no longer parses (truncated, edited by hand) is removed
too, with a warning.`

func newUndefineCmd(app *App) *cobra.Command {
	var removeStorage bool
	cmd := &cobra.Command{
		Use:   "undefine NAME",
		Short: "Remove a guest definition",
		Long:  undefineLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := args[0]
			ws, err := app.Svc().Undefine(app.ctx(), name, service.UndefineOptions{RemoveStorage: removeStorage})
			for _, w := range ws {
				fmt.Fprintf(app.Stderr, "warning: %s\n", w)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Domain '%s' has been undefined\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&removeStorage, "remove-storage", false, "also remove the guest's own copy-on-write layer (nothing shared)")
	return cmd
}
