package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"vmlite/state"
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
			name := args[0]
			r, err := app.status(name)
			if err != nil {
				return err
			}
			d, err := app.currentDomain(name)
			if err != nil {
				return err
			}
			x := d.XML
			row := func(k string, v any) { fmt.Fprintf(app.Stdout, "%-15s %v\n", k+":", v) }
			id := "-"
			if r.State == state.Running && r.InitPID > 0 {
				id = fmt.Sprint(r.InitPID)
			}
			row("Id", id)
			row("Name", name)
			row("UUID", x.UUID)
			row("OS Type", "exe")
			st, _ := virshState(r.State, r.Reason)
			row("State", st)
			vcpus := uint(1)
			if x.VCPU != nil {
				vcpus = x.VCPU.Value
			}
			row("CPU(s)", vcpus)
			if r.Resources != nil {
				row("CPU time", fmt.Sprintf("%.1fs", r.Resources.CPUTime.Seconds()))
			}
			maxMem, used := "unlimited", "unlimited"
			if x.Memory != nil && x.CurrentMemory != nil {
				maxMem, used = fmt.Sprintf("%d KiB", x.Memory.Value), fmt.Sprintf("%d KiB", x.CurrentMemory.Value)
			}
			if r.Resources != nil {
				used = fmt.Sprintf("%d KiB", r.Resources.MemoryUsage/1024)
			}
			row("Max memory", maxMem)
			row("Used memory", used)
			row("Persistent", yesNo(r.Persistent))
			autostart := "disable"
			if _, err := os.Stat(app.Layout.AutostartFile(name)); err == nil {
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
