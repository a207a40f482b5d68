package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"libvirt.org/go/libvirtxml"

	"vmlite/cgroup"
	"vmlite/plan"
)

func init() { register(newMemtuneCmd) }

const memtuneLong = `Show or change the memory tuning of guest NAME, like virsh memtune. Without
options it prints the three limits in KiB ("unlimited" when not set):

    hard_limit     : the memory limit (what setmem changes)
    soft_limit     : what the guest is pushed back to when the host is short
                     of memory (v1 memory.soft_limit_in_bytes, v2 memory.low)
    swap_hard_limit: memory plus swap (v1 memory.memsw.limit_in_bytes, v2
                     memory.swap.max holds the swap part alone)

With limit options it changes the given limits and leaves the others: a
running guest at once (--live), the stored definition's <memtune> for the
next start (--config), or both; without either, the running guest if it
runs, else the stored definition. SIZE is as for setmem (KiB without a
unit); -1 or unlimited removes the limit. swap_hard_limit must be at least
hard_limit. A host that cannot enforce a limit (a v1 kernel without swap
accounting) gets the others, and vmlite prints a warning for the rest.`

func newMemtuneCmd(app *App) *cobra.Command {
	var sc scope
	var hard, soft, swap string
	cmd := &cobra.Command{
		Use:   "memtune NAME",
		Short: "Show or change a guest's memory limits",
		Long:  memtuneLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			type change struct {
				flag, val string
				set       bool
				bytes     uint64
			}
			changes := []*change{{flag: "hard-limit", val: hard}, {flag: "soft-limit", val: soft}, {flag: "swap-hard-limit", val: swap}}
			changing := false
			for _, c := range changes {
				if !cmd.Flags().Changed(c.flag) {
					continue
				}
				v, err := parseLimitSize(c.val)
				if err != nil {
					return fmt.Errorf("--%s: %w", c.flag, err)
				}
				c.set, c.bytes, changing = true, v, true
			}
			live, stored, err := sc.targets(app, args[0])
			if err != nil {
				return err
			}
			if !changing {
				if live != nil {
					printMemtune(app.Stdout, live.limits)
				} else {
					printMemtune(app.Stdout, storedMemtune(stored.x()))
				}
				return nil
			}
			apply := func(l *plan.Limits) {
				for i, dst := range []*uint64{&l.MemoryBytes, &l.MemorySoftBytes, &l.SwapBytes} {
					if changes[i].set {
						*dst = changes[i].bytes
					}
				}
			}
			if stored != nil {
				x := stored.x()
				l := storedMemtune(x)
				apply(&l)
				if x.MemoryTune == nil {
					x.MemoryTune = &libvirtxml.DomainMemoryTune{}
				}
				x.MemoryTune.HardLimit, x.MemoryTune.SoftLimit, x.MemoryTune.SwapHardLimit =
					limitIn(l.MemoryBytes), limitIn(l.MemorySoftBytes), limitIn(l.SwapBytes)
				if *x.MemoryTune == (libvirtxml.DomainMemoryTune{}) {
					x.MemoryTune = nil
				}
				if err := stored.check(); err != nil {
					return err
				}
			}
			if live != nil {
				l := live.limits
				apply(&l)
				if err := cgroup.ValidateLimits(l); err != nil {
					return err
				}
				if err := live.set(app, l); err != nil {
					return err
				}
			}
			if stored != nil {
				return stored.save()
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&hard, "hard-limit", "", "the memory limit, `SIZE` (KiB without a unit; -1: none)")
	fl.StringVar(&soft, "soft-limit", "", "the limit under host memory pressure, `SIZE`")
	fl.StringVar(&swap, "swap-hard-limit", "", "the memory plus swap limit, `SIZE`")
	sc.add(cmd)
	return cmd
}

// storedMemtune reads <memtune> of a definition.
func storedMemtune(x *libvirtxml.Domain) plan.Limits {
	if x.MemoryTune == nil {
		return plan.Limits{}
	}
	return plan.Limits{
		MemoryBytes: bytesOf(x.MemoryTune.HardLimit), MemorySoftBytes: bytesOf(x.MemoryTune.SoftLimit),
		SwapBytes: bytesOf(x.MemoryTune.SwapHardLimit),
	}
}

func printMemtune(w io.Writer, l plan.Limits) {
	fmt.Fprintf(w, "%-15s: %s\n", "hard_limit", kib(l.MemoryBytes))
	fmt.Fprintf(w, "%-15s: %s\n", "soft_limit", kib(l.MemorySoftBytes))
	fmt.Fprintf(w, "%-15s: %s\n", "swap_hard_limit", kib(l.SwapBytes))
}
