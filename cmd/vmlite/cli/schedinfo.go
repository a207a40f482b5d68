package cli

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"libvirt.org/go/libvirtxml"

	"vmlite/cgroup"
	"vmlite/plan"
)

func init() { register(newSchedinfoCmd) }

const schedinfoLong = `Show or change the CPU scheduler parameters of guest NAME, like virsh
schedinfo with libvirt's LXC driver:

    cpu_shares : relative weight against other guests (v1 cpu.shares; v2
                 cpu.weight, converted as runc does); default 1024
    vcpu_period: the CFS period in microseconds (1000..1000000); default 100000
    vcpu_quota : CPU time in microseconds the guest may use per period, over
                 all its CPUs; -1 is no limit. quota = period/2 is half a core.

--set takes KEY=VALUE pairs, comma-separated or in several --set options;
shares, period and quota are accepted for the three keys too. The values
not named stay. A running guest gets the new values at once (--live), the
stored definition's <cputune> keeps them for the next start (--config), or
both; without either, the running guest if it runs, else the stored
definition. The parameters are printed afterwards, as virsh does.`

func newSchedinfoCmd(app *App) *cobra.Command {
	var sc scope
	var sets []string
	cmd := &cobra.Command{
		Use:   "schedinfo NAME",
		Short: "Show or change a guest's CPU shares, period and quota",
		Long:  schedinfoLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			live, stored, err := sc.targets(app, args[0])
			if err != nil {
				return err
			}
			var shown plan.Limits
			if stored != nil {
				x := stored.x()
				l, err := applySched(storedCputune(x), sets)
				if err != nil {
					return err
				}
				setCputune(x, l)
				if err := stored.check(); err != nil {
					return err
				}
				shown = l
			}
			if live != nil {
				l, err := applySched(live.limits, sets)
				if err != nil {
					return err
				}
				if err := cgroup.ValidateLimits(l); err != nil {
					return err
				}
				if len(sets) > 0 {
					if err := live.set(app, l); err != nil {
						return err
					}
				}
				shown = l
			}
			if stored != nil && len(sets) > 0 {
				if err := stored.save(); err != nil {
					return err
				}
			}
			printSchedinfo(app.Stdout, shown)
			return nil
		},
	}
	sc.add(cmd)
	cmd.Flags().StringArrayVar(&sets, "set", nil, "change `KEY=VALUE[,KEY=VALUE...]`: cpu_shares, vcpu_period, vcpu_quota")
	return cmd
}

// applySched applies --set KEY=VALUE lists to l.
func applySched(l plan.Limits, sets []string) (plan.Limits, error) {
	for _, set := range sets {
		for _, kv := range strings.Split(set, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				return l, userErrorf("--set %q: want KEY=VALUE", kv)
			}
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return l, userErrorf("--set %s: %q is not an integer", k, v)
			}
			switch k {
			case "cpu_shares", "shares":
				if n < 0 {
					return l, userErrorf("--set %s: negative", k)
				}
				l.CPUShares = uint64(n)
			case "vcpu_period", "period":
				if n < 0 {
					return l, userErrorf("--set %s: negative", k)
				}
				l.CPUPeriodUS = uint64(n)
			case "vcpu_quota", "quota":
				if n < 0 {
					n = 0 // libvirt's -1 (and any negative): no limit
				}
				l.CPUQuotaUS = n
			default:
				return l, userErrorf("--set: unknown parameter %q (cpu_shares, vcpu_period, vcpu_quota)", k)
			}
		}
	}
	return l, nil
}

// printSchedinfo prints what the kernel applies, defaults included.
func printSchedinfo(w io.Writer, l plan.Limits) {
	shares, period, quota := l.CPUShares, l.CPUPeriodUS, l.CPUQuotaUS
	if shares == 0 {
		shares = 1024
	}
	if period == 0 {
		period = 100000
	}
	if quota == 0 {
		quota = -1
	}
	fmt.Fprintf(w, "%-15s: %s\n", "Scheduler", "posix")
	fmt.Fprintf(w, "%-15s: %d\n", "cpu_shares", shares)
	fmt.Fprintf(w, "%-15s: %d\n", "vcpu_period", period)
	fmt.Fprintf(w, "%-15s: %d\n", "vcpu_quota", quota)
}

// storedCputune reads <cputune> shares, period and quota of a definition.
func storedCputune(x *libvirtxml.Domain) plan.Limits {
	var l plan.Limits
	if t := x.CPUTune; t != nil {
		if t.Shares != nil {
			l.CPUShares = uint64(t.Shares.Value)
		}
		if t.Period != nil {
			l.CPUPeriodUS = t.Period.Value
		}
		if t.Quota != nil && t.Quota.Value > 0 {
			l.CPUQuotaUS = t.Quota.Value
		}
	}
	return l
}

// setCputune writes l's CPU values into <cputune>, removing those at their
// default and the element when it ends up empty.
func setCputune(x *libvirtxml.Domain, l plan.Limits) {
	if x.CPUTune == nil {
		x.CPUTune = &libvirtxml.DomainCPUTune{}
	}
	t := x.CPUTune
	t.Shares, t.Period, t.Quota = nil, nil, nil
	if l.CPUShares > 0 {
		t.Shares = &libvirtxml.DomainCPUTuneShares{Value: uint(l.CPUShares)}
	}
	if l.CPUPeriodUS > 0 {
		t.Period = &libvirtxml.DomainCPUTunePeriod{Value: l.CPUPeriodUS}
	}
	if l.CPUQuotaUS > 0 {
		t.Quota = &libvirtxml.DomainCPUTuneQuota{Value: l.CPUQuotaUS}
	}
	if reflect.ValueOf(*t).IsZero() {
		x.CPUTune = nil
	}
}
