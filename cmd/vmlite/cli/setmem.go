package cli

import (
	"github.com/spf13/cobra"
)

func init() { register(newSetmemCmd) }

const setmemLong = `Change the memory limit of guest NAME to SIZE, like virsh setmem: the
limit of its memory cgroup (memory.limit_in_bytes on cgroup v1, memory.max on
v2), which the guest's processes share. SIZE is an integer with an optional
unit, case-insensitive: b, KiB or k (1024), KB (1000), MiB or M, MB, GiB or
G, GB, TiB or T, TB; without a unit it is in KiB, as in virsh.

A running guest gets the new limit at once (--live). Lowering it below what
the guest uses makes the kernel reclaim memory first and fails if it cannot;
the guest's own OOM killer may then act inside the guest. The new limit may
not exceed the guest's <memory> nor its swap_hard_limit (raise that first
with vmlite memtune). The launch plan keeps the limits the guest started
with; live changes are recorded in its runtime directory, where vmlite status
reads them.

--config sets <currentMemory> in the stored definition, for the next start
(a <memtune><hard_limit> there takes precedence: change it with vmlite
memtune --config). Without --live or --config, the running guest is changed
if it runs, else the stored definition.`

func newSetmemCmd(app *App) *cobra.Command {
	var sc scope
	cmd := &cobra.Command{
		Use:   "setmem NAME SIZE",
		Short: "Change a guest's memory limit",
		Long:  setmemLong,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			size, err := parseScaledSize(args[1])
			if err != nil {
				return err
			}
			if size < 1<<20 {
				return userErrorf("memory size %s: at least 1 MiB", args[1])
			}
			affect, err := sc.affect()
			if err != nil {
				return err
			}
			ws, err := app.Svc().SetMemory(app.ctx(), name, size, affect)
			app.printNotes(ws)
			return err
		},
	}
	sc.add(cmd)
	return cmd
}
