package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/image"
	"vmlite/internal/errdefs"
	"vmlite/netdef"
	"vmlite/state"
)

func init() { register(newUndefineCmd) }

const undefineLong = `Remove the stored definition of guest NAME (and its autostart mark). A
running guest is refused: stop it first. The guest's console log is kept.
--remove-storage also removes the guest's own copy-on-write layer (a guest
from an image: /var/lib/vmlite/layers/NAME) and the clone snapshots no
other guest uses; the image itself stays (vmlite image rm removes it).`

func newUndefineCmd(app *App) *cobra.Command {
	var removeStorage bool
	cmd := &cobra.Command{
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
			if removeStorage {
				if err := image.NewStore(app.Layout).RemoveGuestLayer(name); err != nil {
					return fmt.Errorf("undefined %q, but its layer stays: %w", name, err)
				}
			}
			fmt.Fprintf(app.Stdout, "Domain '%s' has been undefined\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&removeStorage, "remove-storage", false, "also remove the guest's own copy-on-write layer (nothing shared)")
	return cmd
}
