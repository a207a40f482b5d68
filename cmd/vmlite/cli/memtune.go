package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"vmlite/service"
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
accounting) gets the others, and vmlite prints a warning for the rest.

A running guest's limits are read from its cgroup, as libvirt reads them:
what the kernel applies (v1 rounds to pages), whoever wrote it; --config
shows the stored definition's.`

func newMemtuneCmd(app *App) *cobra.Command {
	var sc scope
	var hard, soft, swap string
	cmd := &cobra.Command{
		Use:   "memtune NAME",
		Short: "Show or change a guest's memory limits",
		Long:  memtuneLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var change service.MemoryChange
			for _, c := range []struct {
				flag, val string
				dst       **uint64
			}{{"hard-limit", hard, &change.Hard}, {"soft-limit", soft, &change.Soft}, {"swap-hard-limit", swap, &change.SwapHard}} {
				if !cmd.Flags().Changed(c.flag) {
					continue
				}
				v, err := parseLimitSize(c.val)
				if err != nil {
					return fmt.Errorf("--%s: %w", c.flag, err)
				}
				*c.dst = &v
			}
			affect, err := sc.affect()
			if err != nil {
				return err
			}
			m, ws, err := app.Svc().MemoryTune(app.ctx(), args[0], change, affect)
			app.printNotes(ws)
			if err != nil {
				return err
			}
			if change == (service.MemoryChange{}) {
				printMemtune(app.Stdout, m)
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

func printMemtune(w io.Writer, m service.Memory) {
	fmt.Fprintf(w, "%-15s: %s\n", "hard_limit", kib(m.Hard))
	fmt.Fprintf(w, "%-15s: %s\n", "soft_limit", kib(m.Soft))
	fmt.Fprintf(w, "%-15s: %s\n", "swap_hard_limit", kib(m.SwapHard))
}
