package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"libvirt.org/go/libvirtxml"

	"vmlite/cgroup"
	"vmlite/domain"
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
			live, stored, err := sc.targets(app, name)
			if err != nil {
				return err
			}
			if stored != nil {
				x := stored.x()
				if max := maxOf(x); max > 0 && size > max {
					return userErrorf("guest %q: %s is above its maximum memory <memory> of %s in the stored definition",
						name, cgroup.FormatBytes(size), cgroup.FormatBytes(max))
				}
				x.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(size / 1024), Unit: "KiB"}
				if err := stored.check(); err != nil {
					return err
				}
				if x.MemoryTune != nil && x.MemoryTune.HardLimit != nil {
					fmt.Fprintf(app.Stderr, "vmlite: warning: guest %q: the stored <memtune><hard_limit> of %s still sets the limit at the next start\n",
						name, cgroup.FormatBytes(bytesOf(x.MemoryTune.HardLimit)))
				}
			}
			if live != nil {
				if err := setLiveMemory(app, live, size); err != nil {
					return err
				}
			}
			if stored != nil {
				return stored.save()
			}
			return nil
		},
	}
	sc.add(cmd)
	return cmd
}

func setLiveMemory(app *App, g *runningGuest, size uint64) error {
	name := g.plan.Name
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
}

// maxMemory reads <memory> (the guest's maximum) from the domain XML the
// guest runs with; 0 when it cannot tell.
func maxMemory(domainXML string) uint64 {
	if domainXML == "" {
		return 0
	}
	var d libvirtxml.Domain
	if err := d.Unmarshal(domainXML); err != nil {
		return 0
	}
	return maxOf(&d)
}

// maxOf is the bytes of d's <memory>, 0 without one.
func maxOf(d *libvirtxml.Domain) uint64 {
	if d.Memory == nil {
		return 0
	}
	b, err := domain.ScaledBytes(uint64(d.Memory.Value), d.Memory.Unit)
	if err != nil {
		return 0
	}
	return b
}
