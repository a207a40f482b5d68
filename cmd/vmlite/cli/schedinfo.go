package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"vmlite/service"
)

func init() { register(newSchedinfoCmd) }

const schedinfoLong = `Show or change the CPU scheduler parameters of guest NAME, like virsh
schedinfo with libvirt's LXC driver:

    cpu_shares : relative weight against other guests (v1 cpu.shares; v2
                 cpu.weight, converted as runc does); default 1024
    vcpu_period: the CFS period in microseconds (1000..1000000); default 100000
    vcpu_quota : CPU time in microseconds the guest may use per period, over
                 all its CPUs; -1 is no limit. quota = period/2 is half a core.
                 With --config on a guest with <vcpu>N</vcpu>, -1 is stored as
                 <quota>-1</quota>, since without a quota <vcpu> sets one.

--set takes KEY=VALUE pairs, comma-separated or in several --set options;
shares, period and quota are accepted for the three keys too. The values
not named stay. A running guest gets the new values at once (--live), the
stored definition's <cputune> keeps them for the next start (--config), or
both; without either, the running guest if it runs, else the stored
definition. The parameters are printed afterwards, as virsh does. A
running guest's are read from its cgroup, as libvirt reads them: what the
kernel applies, whoever wrote it; --config shows the stored definition's.`

func newSchedinfoCmd(app *App) *cobra.Command {
	var sc scope
	var sets []string
	cmd := &cobra.Command{
		Use:   "schedinfo NAME",
		Short: "Show or change a guest's CPU shares, period and quota",
		Long:  schedinfoLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			change, err := parseSchedSets(sets)
			if err != nil {
				return err
			}
			affect, err := sc.affect()
			if err != nil {
				return err
			}
			sched, ws, err := app.Svc().SchedInfo(app.ctx(), args[0], change, affect)
			app.printNotes(ws)
			if err != nil {
				return err
			}
			printSchedinfo(app.Stdout, sched)
			return nil
		},
	}
	sc.add(cmd)
	cmd.Flags().StringArrayVar(&sets, "set", nil, "change `KEY=VALUE[,KEY=VALUE...]`: cpu_shares, vcpu_period, vcpu_quota")
	return cmd
}

// parseSchedSets reads --set KEY=VALUE lists.
func parseSchedSets(sets []string) (service.SchedChange, error) {
	var c service.SchedChange
	for _, set := range sets {
		for _, kv := range strings.Split(set, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				return c, userErrorf("--set %q: want KEY=VALUE", kv)
			}
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return c, userErrorf("--set %s: %q is not an integer", k, v)
			}
			switch k {
			case "cpu_shares", "shares", "vcpu_period", "period":
				if n < 0 {
					return c, userErrorf("--set %s: negative", k)
				}
				u := uint64(n)
				if k == "cpu_shares" || k == "shares" {
					c.Shares = &u
				} else {
					c.PeriodUS = &u
				}
			case "vcpu_quota", "quota":
				c.QuotaUS = &n
			default:
				return c, userErrorf("--set: unknown parameter %q (cpu_shares, vcpu_period, vcpu_quota)", k)
			}
		}
	}
	return c, nil
}

// printSchedinfo prints what the kernel applies, defaults included.
func printSchedinfo(w io.Writer, sc service.Sched) {
	fmt.Fprintf(w, "%-15s: %s\n", "Scheduler", "posix")
	fmt.Fprintf(w, "%-15s: %d\n", "cpu_shares", sc.Shares)
	fmt.Fprintf(w, "%-15s: %d\n", "vcpu_period", sc.PeriodUS)
	fmt.Fprintf(w, "%-15s: %d\n", "vcpu_quota", sc.QuotaUS)
}
