package domain

import (
	"reflect"

	"libvirt.org/go/libvirtxml"

	"vmlite/plan"
)

// The one mapping between a definition's resource elements and
// plan.Limits, both ways: a start reads it (launch), and setmem, memtune
// and schedinfo read and write a stored definition through it (service),
// so what a tuning command stores is what the next start applies. The
// policy around it (defaults, the start's minimum memory, vmlite:pids)
// stays with the builder.

// DefaultCPUPeriodUS is the CFS period a quota from <vcpu> is counted in
// when <cputune> sets no period (the kernel's default period).
const DefaultCPUPeriodUS = 100000

// XMLLimits reads every cgroup limit x sets, without defaults:
//   - memory: the smaller of <memory> and <currentMemory> (libvirt limits an
//     LXC guest to its current, balloon, memory), replaced by
//     <memtune><hard_limit>; <soft_limit>, <swap_hard_limit>;
//   - CPU: <cputune> shares, period and quota (-1: none); <vcpu cpuset>;
//     the <vcpu> count as a quota of count periods unless <cputune> sets
//     one (libvirt ignores the count of an LXC guest);
//   - <blkiotune>.
func XMLLimits(x *libvirtxml.Domain) (plan.Limits, error) {
	var l plan.Limits
	if x.Memory != nil {
		b, err := ScaledBytes(uint64(x.Memory.Value), x.Memory.Unit)
		if err != nil {
			return l, err
		}
		l.MemoryBytes = b
	}
	if x.CurrentMemory != nil && x.CurrentMemory.Value > 0 {
		b, err := ScaledBytes(uint64(x.CurrentMemory.Value), x.CurrentMemory.Unit)
		if err != nil {
			return l, err
		}
		if l.MemoryBytes == 0 || b < l.MemoryBytes {
			l.MemoryBytes = b
		}
	}
	mt, err := Memtune(x)
	if err != nil {
		return l, err
	}
	if mt.MemoryBytes != 0 {
		l.MemoryBytes = mt.MemoryBytes
	}
	l.MemorySoftBytes, l.SwapBytes = mt.MemorySoftBytes, mt.SwapBytes
	ct := Cputune(x)
	l.CPUShares, l.CPUPeriodUS, l.CPUQuotaUS = ct.CPUShares, ct.CPUPeriodUS, ct.CPUQuotaUS
	if x.VCPU != nil {
		l.CPUSet = x.VCPU.CPUSet
		if x.VCPU.Value > 0 && l.CPUQuotaUS == 0 {
			if l.CPUPeriodUS == 0 {
				l.CPUPeriodUS = DefaultCPUPeriodUS
			}
			l.CPUQuotaUS = int64(x.VCPU.Value) * int64(l.CPUPeriodUS)
		}
	}
	bt := Blkiotune(x)
	l.BlkioWeight, l.BlkioDevices = bt.BlkioWeight, bt.BlkioDevices
	return l, nil
}

// MaxMemory is the bytes of x's <memory> (the guest's maximum), 0 without one.
func MaxMemory(x *libvirtxml.Domain) (uint64, error) {
	if x.Memory == nil {
		return 0, nil
	}
	return ScaledBytes(uint64(x.Memory.Value), x.Memory.Unit)
}

// SetCurrentMemory writes <currentMemory> of b bytes (in KiB, as libvirt
// writes it).
func SetCurrentMemory(x *libvirtxml.Domain, b uint64) {
	x.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(b / 1024), Unit: "KiB"}
}

// Memtune reads <memtune>: hard_limit into MemoryBytes, soft_limit into
// MemorySoftBytes, swap_hard_limit into SwapBytes (0: not set).
func Memtune(x *libvirtxml.Domain) (plan.Limits, error) {
	var l plan.Limits
	mt := x.MemoryTune
	if mt == nil {
		return l, nil
	}
	for _, f := range []struct {
		v   *libvirtxml.DomainMemoryTuneLimit
		dst *uint64
	}{{mt.HardLimit, &l.MemoryBytes}, {mt.SoftLimit, &l.MemorySoftBytes}, {mt.SwapHardLimit, &l.SwapBytes}} {
		if f.v == nil {
			continue
		}
		b, err := ScaledBytes(f.v.Value, f.v.Unit)
		if err != nil {
			return plan.Limits{}, err
		}
		*f.dst = b
	}
	return l, nil
}

// SetMemtune writes l's MemoryBytes, MemorySoftBytes and SwapBytes as
// <memtune>'s hard_limit, soft_limit and swap_hard_limit in KiB; a 0
// removes the element, and <memtune> goes when nothing is left in it.
func SetMemtune(x *libvirtxml.Domain, l plan.Limits) {
	if x.MemoryTune == nil {
		x.MemoryTune = &libvirtxml.DomainMemoryTune{}
	}
	mt := x.MemoryTune
	mt.HardLimit, mt.SoftLimit, mt.SwapHardLimit = kib(l.MemoryBytes), kib(l.MemorySoftBytes), kib(l.SwapBytes)
	if *mt == (libvirtxml.DomainMemoryTune{}) {
		x.MemoryTune = nil
	}
}

// kib is a <memtune> limit of b bytes; 0 is none.
func kib(b uint64) *libvirtxml.DomainMemoryTuneLimit {
	if b == 0 {
		return nil
	}
	return &libvirtxml.DomainMemoryTuneLimit{Value: b / 1024, Unit: "KiB"}
}

// Cputune reads <cputune>'s shares, period and quota (a negative quota,
// libvirt's -1, is kept: it says "no limit", which also keeps <vcpu> from
// setting one).
func Cputune(x *libvirtxml.Domain) plan.Limits {
	var l plan.Limits
	if t := x.CPUTune; t != nil {
		if t.Shares != nil {
			l.CPUShares = uint64(t.Shares.Value)
		}
		if t.Period != nil {
			l.CPUPeriodUS = t.Period.Value
		}
		if t.Quota != nil {
			l.CPUQuotaUS = t.Quota.Value
		}
	}
	return l
}

// SetCputune writes l's CPUShares, CPUPeriodUS and CPUQuotaUS into
// <cputune>; a 0 removes the element (a negative quota is written as -1
// where x has a <vcpu> count), and <cputune> goes when nothing is left in
// it.
func SetCputune(x *libvirtxml.Domain, l plan.Limits) {
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
	switch {
	case l.CPUQuotaUS > 0:
		t.Quota = &libvirtxml.DomainCPUTuneQuota{Value: l.CPUQuotaUS}
	case l.CPUQuotaUS < 0 && x.VCPU != nil && x.VCPU.Value > 0:
		// Only here does "no quota" differ from no element: without it
		// the <vcpu> count would become one.
		t.Quota = &libvirtxml.DomainCPUTuneQuota{Value: -1}
	}
	if reflect.ValueOf(*t).IsZero() {
		x.CPUTune = nil
	}
}

// Blkiotune reads <blkiotune>'s weight and per-device limits.
func Blkiotune(x *libvirtxml.Domain) plan.Limits {
	var l plan.Limits
	bt := x.BlockIOTune
	if bt == nil {
		return l
	}
	l.BlkioWeight = uint64(bt.Weight)
	for _, dev := range bt.Device {
		l.BlkioDevices = append(l.BlkioDevices, plan.BlkioDevice{
			Path: dev.Path, Weight: uint64(dev.Weight),
			ReadBps: uint64(dev.ReadBytesSec), WriteBps: uint64(dev.WriteBytesSec),
			ReadIops: uint64(dev.ReadIopsSec), WriteIops: uint64(dev.WriteIopsSec),
		})
	}
	return l
}

// SetBlkiotune writes l's BlkioWeight and BlkioDevices as <blkiotune>,
// which goes when both are empty.
func SetBlkiotune(x *libvirtxml.Domain, l plan.Limits) {
	if l.BlkioWeight == 0 && len(l.BlkioDevices) == 0 {
		x.BlockIOTune = nil
		return
	}
	bt := &libvirtxml.DomainBlockIOTune{Weight: uint(l.BlkioWeight)}
	for _, d := range l.BlkioDevices {
		bt.Device = append(bt.Device, libvirtxml.DomainBlockIOTuneDevice{
			Path: d.Path, Weight: uint(d.Weight),
			ReadBytesSec: uint(d.ReadBps), WriteBytesSec: uint(d.WriteBps),
			ReadIopsSec: uint(d.ReadIops), WriteIopsSec: uint(d.WriteIops),
		})
	}
	x.BlockIOTune = bt
}
