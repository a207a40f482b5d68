package cli

import (
	"github.com/spf13/cobra"
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
			b, err := app.Svc().DumpXML(app.ctx(), args[0], inactive)
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
