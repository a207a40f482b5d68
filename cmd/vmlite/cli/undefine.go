package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/netdef"
	"vmlite/state"
)

func init() { register(newUndefineCmd) }

const undefineLong = `Remove the stored definition of guest NAME (and its autostart mark). A
running guest is refused: stop it first. The guest's console log is kept.`

func newUndefineCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "undefine NAME",
		Short: "Remove a guest definition",
		Long:  undefineLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := args[0]
			// Path safety only: a definition stored under a name an older
			// vmlite allowed must stay removable.
			if err := validName(name); err != nil {
				return err
			}
			running, err := state.Held(app.Layout.LockFile(name))
			if err != nil {
				return err
			}
			if running {
				return fmt.Errorf("guest %q: %w: stop it first (vmlite stop %s), then undefine it", name, errdefs.ErrAlreadyRunning, name)
			}
			store := domain.NewStore(app.Layout)
			d, err := store.Load(name)
			switch {
			case errors.Is(err, errdefs.ErrNotFound):
				return err
			case err != nil:
				// A corrupted (truncated, hand-edited) definition must not
				// be stuck forever: remove it, and say what is lost.
				fmt.Fprintf(app.Stderr, "warning: the definition of %q is not valid, removing it anyway (addresses it holds on managed networks stay reserved): %v\n", name, err)
			}
			if err := store.Delete(name); err != nil {
				return err
			}
			// Its addresses on managed networks go back to the pool.
			if d != nil {
				if err := netdef.ReleaseGuest(app.Layout, d.XML.UUID); err != nil {
					fmt.Fprintf(app.Stderr, "warning: release addresses of %q: %v\n", name, err)
				}
			}
			if err := os.Remove(app.Layout.AutostartFile(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove autostart mark of %q: %w", name, err)
			}
			fmt.Fprintf(app.Stdout, "Domain '%s' has been undefined\n", name)
			return nil
		},
	}
}
