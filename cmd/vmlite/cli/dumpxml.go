package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/internal/errdefs"
)

func init() { register(newDumpXMLCmd) }

const dumpxmlLong = `Print the domain XML of guest NAME: the live XML the guest runs with when it
runs (which may differ from its stored definition after a redefine, and
exists for transient guests too), else the stored definition. --inactive
always prints the stored definition.`

func newDumpXMLCmd(app *App) *cobra.Command {
	var inactive bool
	cmd := &cobra.Command{
		Use:   "dumpxml NAME",
		Short: "Print a guest's domain XML",
		Long:  dumpxmlLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := args[0]
			if err := domain.CheckName(name); err != nil {
				return err
			}
			if !inactive {
				b, err := os.ReadFile(app.Layout.LiveXML(name))
				if err == nil {
					_, err = app.Stdout.Write(b)
					return err
				}
				if !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("read live XML of %q: %w", name, err)
				}
			}
			d, err := domain.NewStore(app.Layout).Load(name)
			if err != nil {
				if inactive && errors.Is(err, errdefs.ErrNotFound) {
					if _, serr := os.Stat(app.Layout.LiveXML(name)); serr == nil {
						return fmt.Errorf("guest %q is transient: %w: it has no stored definition (drop --inactive)", name, errdefs.ErrNotFound)
					}
				}
				return err
			}
			b, err := d.Marshal()
			if err != nil {
				return err
			}
			_, err = app.Stdout.Write(b)
			return err
		},
	}
	cmd.Flags().BoolVar(&inactive, "inactive", false, "print the stored definition even when the guest runs")
	return cmd
}
