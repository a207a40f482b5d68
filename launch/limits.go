package launch

import (
	"fmt"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/plan"
)

// Defaults for limits the XML leaves open.
const (
	// MinMemoryBytes is the least memory limit a guest starts with: vmlite's
	// set-up of the guest (vmlite-init) runs in the guest's cgroup before
	// the guest's init, and 1 MiB was enough for it on Linux 6.1.
	MinMemoryBytes = 2 << 20
	// DefaultPidsMax stops a fork bomb in one guest from exhausting the
	// host's pids (pid_max is 32768 on many hosts); vmlite:pids overrides it.
	DefaultPidsMax = 4096
	// defaultCPUPeriodUS is the CFS period used to turn <vcpu> into a quota.
	defaultCPUPeriodUS = 100000
	// defaultPartition is the cgroup parent without <resource><partition>.
	defaultPartition = "/machine"
)

// buildCgroup fills the cgroup placement and limits from the XML.
func buildCgroup(p *plan.Plan, x *libvirtxml.Domain, d *domain.Domain) error {
	p.Cgroup.Partition = defaultPartition
	if x.Resource != nil && x.Resource.Partition != "" {
		p.Cgroup.Partition = x.Resource.Partition
	}
	l := &p.Cgroup.Limits
	// libvirt limits an LXC guest to its current (balloon) memory.
	if x.Memory != nil {
		b, err := domain.ScaledBytes(uint64(x.Memory.Value), x.Memory.Unit)
		if err != nil {
			return err
		}
		l.MemoryBytes = b
	}
	if x.CurrentMemory != nil && x.CurrentMemory.Value > 0 {
		b, err := domain.ScaledBytes(uint64(x.CurrentMemory.Value), x.CurrentMemory.Unit)
		if err != nil {
			return err
		}
		if l.MemoryBytes == 0 || b < l.MemoryBytes {
			l.MemoryBytes = b
		}
	}
	if mt := x.MemoryTune; mt != nil {
		for _, f := range []struct {
			v   *libvirtxml.DomainMemoryTuneLimit
			dst *uint64
		}{{mt.HardLimit, &l.MemoryBytes}, {mt.SoftLimit, &l.MemorySoftBytes}, {mt.SwapHardLimit, &l.SwapBytes}} {
			if f.v == nil {
				continue
			}
			b, err := domain.ScaledBytes(f.v.Value, f.v.Unit)
			if err != nil {
				return err
			}
			*f.dst = b
		}
	}
	if l.MemoryBytes > 0 && l.MemoryBytes < MinMemoryBytes {
		// The kernel would not refuse it: the guest's set-up, which runs in
		// its cgroup, would be killed at the limit ("signal: killed").
		return fmt.Errorf("a memory limit of %d bytes is below the %d MiB a guest needs to start (its set-up runs inside the limit); fix: give it at least %d MiB, e.g. <memory unit='MiB'>64</memory>",
			l.MemoryBytes, MinMemoryBytes>>20, MinMemoryBytes>>20)
	}
	if ct := x.CPUTune; ct != nil {
		if ct.Shares != nil {
			l.CPUShares = uint64(ct.Shares.Value)
		}
		if ct.Period != nil {
			l.CPUPeriodUS = ct.Period.Value
		}
		if ct.Quota != nil {
			l.CPUQuotaUS = ct.Quota.Value
		}
	}
	// libvirt ignores the vCPU count of an LXC guest; vmlite enforces it as a
	// CPU quota unless <cputune> sets one.
	if x.VCPU != nil {
		l.CPUSet = x.VCPU.CPUSet
		if x.VCPU.Value > 0 && l.CPUQuotaUS == 0 {
			if l.CPUPeriodUS == 0 {
				l.CPUPeriodUS = defaultCPUPeriodUS
			}
			l.CPUQuotaUS = int64(x.VCPU.Value) * int64(l.CPUPeriodUS)
		}
	}
	l.PidsMax = DefaultPidsMax
	if d.Meta.PidsMax != 0 {
		l.PidsMax = d.Meta.PidsMax
	}
	if bt := x.BlockIOTune; bt != nil {
		l.BlkioWeight = uint64(bt.Weight)
		for _, dev := range bt.Device {
			l.BlkioDevices = append(l.BlkioDevices, plan.BlkioDevice{
				Path: dev.Path, Weight: uint64(dev.Weight),
				ReadBps: uint64(dev.ReadBytesSec), WriteBps: uint64(dev.WriteBytesSec),
				ReadIops: uint64(dev.ReadIopsSec), WriteIops: uint64(dev.WriteIopsSec),
			})
		}
	}
	return nil
}
