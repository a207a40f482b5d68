package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/domain/lxcconf"
	"vmlite/internal/errdefs"
	"vmlite/state"
)

func init() { register(newImportLXCCmd) }

const importLXCLong = `Convert the LXC container configuration CONFIG (- for standard input) into
libvirt LXC domain XML, as virsh domxml-from-native lxc-tools does. LXC 1.x
and 2.x keys (lxc.network.*, lxc.utsname, lxc.rootfs) and LXC 3 keys
(lxc.net.N.*, lxc.uts.name, lxc.rootfs.path) are both read. Keys without a
domain XML equivalent are reported as warnings on standard error, as are the
parts of the result that vmlite would refuse (numatune, hostdev type='net').
An fstab file (lxc.mount, lxc.mount.fstab) is an error: write its lines as
lxc.mount.entry. The XML goes to standard output, or to --output FILE.`

func newImportLXCCmd(app *App) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "import-lxc CONFIG",
		Short: "Convert an LXC container config to domain XML",
		Long:  importLXCLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f := args[0]
			var b []byte
			var err error
			if f == "-" {
				b, err = io.ReadAll(app.Stdin)
			} else {
				b, err = os.ReadFile(f)
			}
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s: %w", f, errdefs.ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", f, err)
			}
			x, warns, err := lxcconf.Convert(displayName(f), b)
			if err != nil {
				return err
			}
			for _, w := range warns {
				fmt.Fprintf(app.Stderr, "warning: %s\n", w)
			}
			out, err := (&domain.Domain{XML: x}).Marshal()
			if err != nil {
				return err
			}
			// Say now what define or start would refuse.
			if _, _, err := domain.Parse("converted XML", out); err != nil {
				var es domain.Errors
				if !errors.As(err, &es) {
					return err
				}
				for _, e := range es {
					fmt.Fprintf(app.Stderr, "warning: %s\n", e)
				}
			}
			if output == "" {
				_, err = app.Stdout.Write(out)
				return err
			}
			if err := state.WriteFileAtomic(output, out, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(app.Stderr, "import-lxc: domain XML written to %s\n", output)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the domain XML to `FILE` instead of standard output")
	return cmd
}
