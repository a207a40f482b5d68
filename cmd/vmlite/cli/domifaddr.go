package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"vmlite/internal/errdefs"
	"vmlite/netdef"
	"vmlite/plan"
	"vmlite/state"
)

func init() { register(newDomIfAddrCmd) }

func newDomIfAddrCmd(app *App) *cobra.Command {
	var iface string
	cmd := &cobra.Command{
		Use:   "domifaddr NAME",
		Short: "List a running guest's interface addresses",
		Long: `List the addresses of a running guest's interfaces, as virsh domifaddr does:
name, MAC, protocol and address/prefix of each, read live from the guest's
network namespace (so addresses the guest configured itself, with DHCP for
example, are shown too). IPv6 link-local addresses are left out.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addrs, err := guestAddresses(app.Layout, args[0], iface)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(app.Stdout, 0, 0, 3, ' ', 0)
			fmt.Fprintln(w, " Name\tMAC address\tProtocol\tAddress")
			fmt.Fprintln(w, "-------------------------------------------------------------------------------")
			for _, a := range addrs {
				fam, cidr := a.Family, a.CIDR
				if fam == "" {
					fam, cidr = "-", "-"
				}
				fmt.Fprintf(w, " %s\t%s\t%s\t%s\n", a.Name, a.MAC, fam, cidr)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&iface, "interface", "", "only the guest interface NAME (eth0)")
	return cmd
}

// guestAddresses reads the addresses of guest name's interfaces (those of
// its launch plan, or only iface) from its running init's namespace.
func guestAddresses(l state.Layout, name, iface string) ([]netdef.IfaceAddr, error) {
	st, err := state.Read(l.StateFile(name))
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(l.DomainFile(name)); err == nil {
			return nil, fmt.Errorf("guest %q: %w", name, errdefs.ErrNotRunning)
		}
		return nil, fmt.Errorf("guest %q: %w", name, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if st.InitPID <= 0 || st.Status != state.Running {
		return nil, fmt.Errorf("guest %q is %s: %w", name, st.Status, errdefs.ErrNotRunning)
	}
	b, err := os.ReadFile(l.PlanFile(name))
	if err != nil {
		return nil, fmt.Errorf("guest %q: read launch plan: %w", name, err)
	}
	p, err := plan.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("guest %q: %w", name, err)
	}
	var names []string
	for _, in := range p.Interfaces {
		if iface == "" || in.GuestName == iface {
			names = append(names, in.GuestName)
		}
	}
	if iface != "" && len(names) == 0 {
		return nil, fmt.Errorf("guest %q has no interface %q: %w", name, iface, errdefs.ErrNotFound)
	}
	if len(names) == 0 {
		return nil, nil // no interfaces of its own: nothing to list
	}
	return netdef.GuestAddresses(st.InitPID, names)
}
