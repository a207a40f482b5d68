package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"vmlite/netdef"
)

func init() { register(newNetListCmd) }

func newNetListCmd(app *App) *cobra.Command {
	var all, inactive, names, persistent, transient bool
	cmd := &cobra.Command{
		Use:   "net-list",
		Short: "List managed networks",
		Long: `List the active managed networks (--all: every defined network, --inactive:
the stopped ones) with their state, autostart mark, persistence (no: a
transient network, from net-create), bridge, IPv4 address and forward mode.
--persistent and --transient keep those alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ns, err := app.Svc().Networks(app.ctx())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(app.Stdout, 0, 0, 3, ' ', 0)
			if !names {
				fmt.Fprintln(w, " Name\tState\tAutostart\tPersistent\tBridge\tAddress\tForward")
				fmt.Fprintln(w, "--------------------------------------------------------------------------------------")
			}
			for _, n := range ns {
				active := n.Active
				if active && inactive || !active && !inactive && !all ||
					persistent && n.Transient || transient && !n.Transient {
					continue
				}
				if names {
					fmt.Fprintln(w, n.Name)
					continue
				}
				st, auto, pers, addr, fwd := "inactive", "no", "yes", "-", "isolated"
				if active {
					st = "active"
				}
				if n.Autostart {
					auto = "yes"
				}
				if n.Transient {
					pers = "no"
				}
				if c := n.IPv4(); c != nil {
					addr = c.CIDR()
				}
				if n.Forward != netdef.ForwardNone {
					fwd = n.Forward
				}
				fmt.Fprintf(w, " %s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, st, auto, pers, n.Bridge, addr, fwd)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "list active and inactive networks")
	cmd.Flags().BoolVar(&inactive, "inactive", false, "list inactive networks only")
	cmd.Flags().BoolVar(&names, "name", false, "print the names only, one a line")
	cmd.Flags().BoolVar(&persistent, "persistent", false, "list persistent (defined) networks only")
	cmd.Flags().BoolVar(&transient, "transient", false, "list transient networks (net-create) only")
	return cmd
}
