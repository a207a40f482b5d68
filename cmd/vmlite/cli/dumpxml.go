package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/state"
)

func init() { register(newDumpXMLCmd) }

const dumpxmlLong = `Print the domain XML of guest NAME: the live XML the guest runs with when it
runs (which may differ from its stored definition after a redefine, and
exists for transient guests too), else the stored definition. --inactive
always prints the stored definition.

The XML is normalised as libvirt writes it: the uuid dashed, memory and
currentMemory in KiB, <vcpu placement='static'>, <os><type arch=...>, a
MAC on every interface, every console a pty with <target type='lxc'
port='N'/>; a running guest's XML also has id= (init's host pid), each
console's <source path> (its host pty) and <alias name='consoleN'/>.`

func newDumpXMLCmd(app *App) *cobra.Command {
	var inactive bool
	cmd := &cobra.Command{
		Use:   "dumpxml NAME",
		Short: "Print a guest's domain XML",
		Long:  dumpxmlLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			b, err := dumpXML(app, args[0], inactive)
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

// dumpXML is the libvirt-normalised XML of name: the live XML of a running
// guest (with its id and consoles), else, or with inactive, the stored
// definition.
func dumpXML(app *App, name string, inactive bool) ([]byte, error) {
	if err := domain.CheckName(name); err != nil {
		return nil, err
	}
	if !inactive {
		path := app.Layout.LiveXML(name)
		b, err := os.ReadFile(path)
		if err == nil {
			d, _, err := domain.Parse(path, b)
			if err != nil {
				return nil, fmt.Errorf("live XML of %q: %w", name, err)
			}
			var live *domain.Live
			if st, err := state.Read(app.Layout.StateFile(name)); err == nil && st.Status == state.Running {
				live = &domain.Live{ID: st.InitPID, ConsolePTYs: st.ConsolePTYs}
			}
			return d.LibvirtXML(live)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read live XML of %q: %w", name, err)
		}
	}
	d, err := domain.NewStore(app.Layout).Load(name)
	if err != nil {
		if inactive && errors.Is(err, errdefs.ErrNotFound) {
			if _, serr := os.Stat(app.Layout.LiveXML(name)); serr == nil {
				return nil, fmt.Errorf("guest %q is transient: %w: it has no stored definition (drop --inactive)", name, errdefs.ErrNotFound)
			}
		}
		return nil, err
	}
	return d.LibvirtXML(nil)
}

// currentDomain is what dumpxml prints, parsed: the live definition of a
// running guest, else the stored one.
func (a *App) currentDomain(name string) (*domain.Domain, error) {
	b, err := dumpXML(a, name, false)
	if err != nil {
		return nil, err
	}
	d, _, err := domain.Parse(name, b)
	if err != nil {
		return nil, fmt.Errorf("definition of %q: %w", name, err)
	}
	return d, nil
}
