package cli

import (
	"github.com/spf13/cobra"
	"libvirt.org/go/libvirtxml"

	"vmlite/cgroup"
)

func init() { register(newSetmemCmd) }

const setmemLong = `Change the memory limit of guest NAME to SIZE, like virsh setmem: the
limit of its memory cgroup (memory.limit_in_bytes on cgroup v1, memory.max on
v2), which the guest's processes share. SIZE is an integer with an optional
unit, case-insensitive: b, KiB or k (1024), KB (1000), MiB or M, MB, GiB or
G, GB, TiB or T, TB; without a unit it is in KiB, as in virsh.

The running guest gets the new limit at once. Lowering it below what
the guest uses makes the kernel reclaim memory first and fails if it cannot;
the guest's own OOM killer may then act inside the guest. The new limit may
not exceed the guest's <memory> nor its swap_hard_limit (raise that first
with vmlite memtune). The launch plan keeps the limits the guest started
with; live changes are recorded in its runtime directory, where vmlite status
reads them.`

func newSetmemCmd(app *App) *cobra.Command {
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
			g, err := loadRunning(app, name)
			if err != nil {
				return err
			}
			if max := maxMemory(g.plan.DomainXML); max > 0 && size > max {
				return userErrorf("guest %q: %s is above its maximum memory <memory> of %s", name,
					cgroup.FormatBytes(size), cgroup.FormatBytes(max))
			}
			l := g.limits
			l.MemoryBytes = size
			if l.SwapBytes > 0 && l.SwapBytes < size {
				return userErrorf("guest %q: %s is above its swap_hard_limit (memory+swap) of %s; raise that first with vmlite memtune --swap-hard-limit",
					name, cgroup.FormatBytes(size), cgroup.FormatBytes(l.SwapBytes))
			}
			return g.set(app, l)
		},
	}
	return cmd
}

// maxMemory reads <memory> (the guest's maximum) from the domain XML the
// guest runs with; 0 when it cannot tell.
func maxMemory(domainXML string) uint64 {
	if domainXML == "" {
		return 0
	}
	var d libvirtxml.Domain
	if err := d.Unmarshal(domainXML); err != nil || d.Memory == nil {
		return 0
	}
	b, err := scaled(uint64(d.Memory.Value), d.Memory.Unit)
	if err != nil {
		return 0
	}
	return b
}

// scaled turns a libvirt value with a unit attribute ("" = KiB) into bytes.
func scaled(v uint64, unit string) (uint64, error) {
	s, err := unitScale(unit)
	if err != nil {
		return 0, err
	}
	return v * s, nil
}
