package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newDomInfoCmd) }

const dominfoLong = `Print basic information about guest NAME in the layout of virsh dominfo:
Id (init's host pid while it runs, else -), Name, UUID, OS Type, State,
CPU(s), CPU time (while it runs), Max memory and Used memory (in KiB; used is
the memory cgroup's usage while it runs; "unlimited" without <memory>),
Persistent, Autostart, Managed save and the security model (none). vmlite
status shows more.`

func newDomInfoCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "dominfo NAME",
		Short: "Print basic information about a guest as virsh dominfo does",
		Long:  dominfoLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			in, err := app.Svc().Info(app.ctx(), args[0])
			if err != nil {
				return err
			}
			row := func(k string, v any) { fmt.Fprintf(app.Stdout, "%-15s %v\n", k+":", v) }
			id := "-"
			if in.Active() {
				id = fmt.Sprint(in.ID)
			}
			row("Id", id)
			row("Name", in.Name)
			row("UUID", in.UUID)
			row("OS Type", "exe")
			st, _ := virshState(in.State, in.Reason)
			row("State", st)
			row("CPU(s)", in.VCPUs)
			if in.Stats {
				row("CPU time", fmt.Sprintf("%.1fs", in.CPUTime.Seconds()))
			}
			maxMem, used := "unlimited", "unlimited"
			if in.MaxMemKiB > 0 {
				maxMem, used = fmt.Sprintf("%d KiB", in.MaxMemKiB), fmt.Sprintf("%d KiB", in.MemoryKiB)
			}
			if in.Stats {
				used = fmt.Sprintf("%d KiB", in.UsedMemKiB)
			}
			row("Max memory", maxMem)
			row("Used memory", used)
			row("Persistent", yesNo(in.Persistent))
			autostart := "disable"
			if in.Autostart {
				autostart = "enable"
			}
			row("Autostart", autostart)
			row("Managed save", "no")
			row("Security model", "none")
			row("Security DOI", "0")
			return nil
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
