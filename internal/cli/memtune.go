package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

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

With options it changes the given limits of the running guest at once and
leaves the others. SIZE is as for setmem (KiB without a unit); -1 or
unlimited removes the limit. swap_hard_limit must be at least hard_limit. A
host that cannot enforce a limit (a v1 kernel without swap accounting) gets
the others, and vmlite prints a warning for the rest.`

func newMemtuneCmd(app *App) *cobra.Command {
	var hard, soft, swap string
	cmd := &cobra.Command{
		Use:   "memtune NAME",
		Short: "Show or change a guest's memory limits",
		Long:  memtuneLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := loadRunning(app, args[0])
			if err != nil {
				return err
			}
			l := g.limits
			changed := false
			for _, f := range []struct {
				flag string
				val  string
				dst  *uint64
			}{{"hard-limit", hard, &l.MemoryBytes}, {"soft-limit", soft, &l.MemorySoftBytes}, {"swap-hard-limit", swap, &l.SwapBytes}} {
				if !cmd.Flags().Changed(f.flag) {
					continue
				}
				v, err := parseLimitSize(f.val)
				if err != nil {
					return fmt.Errorf("--%s: %w", f.flag, err)
				}
				*f.dst, changed = v, true
			}
			if !changed {
				printMemtune(app.Stdout, l)
				return nil
			}
			if err := cgroup.ValidateLimits(l); err != nil {
				return err
			}
			return g.set(app, l)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&hard, "hard-limit", "", "the memory limit, `SIZE` (KiB without a unit; -1: none)")
	fl.StringVar(&soft, "soft-limit", "", "the limit under host memory pressure, `SIZE`")
	fl.StringVar(&swap, "swap-hard-limit", "", "the memory plus swap limit, `SIZE`")
	return cmd
}

func printMemtune(w io.Writer, l plan.Limits) {
	fmt.Fprintf(w, "%-15s: %s\n", "hard_limit", kib(l.MemoryBytes))
	fmt.Fprintf(w, "%-15s: %s\n", "soft_limit", kib(l.MemorySoftBytes))
	fmt.Fprintf(w, "%-15s: %s\n", "swap_hard_limit", kib(l.SwapBytes))
}
