package cgroup

import (
	"fmt"
	"path/filepath"
	"strconv"

	"vmlite/plan"
)

// v1Unlimited is how v1 memory and CFS files take "no limit".
const v1Unlimited = "-1"

// applyV1 maps plan limits onto v1 files:
//
//	MemoryBytes      memory.limit_in_bytes
//	MemorySoftBytes  memory.soft_limit_in_bytes
//	SwapBytes        memory.memsw.limit_in_bytes (memory+swap, as libvirt's swap_hard_limit)
//	CPUShares        cpu.shares
//	CPUPeriodUS      cpu.cfs_period_us
//	CPUQuotaUS       cpu.cfs_quota_us
//	CPUSet           cpuset.cpus (cpuset.mems was inherited at Create)
//	PidsMax          pids.max
//	BlkioWeight      blkio.weight or blkio.bfq.weight
//	BlkioDevices     blkio[.bfq].weight_device, blkio.throttle.{read,write}_{bps,iops}_device
//
// memory.use_hierarchy is not touched: since Linux 5.10 it is always 1.
func (m *manager) applyV1(l plan.Limits, w *Warnings) error {
	type part struct {
		ctrl   string
		wanted bool
		fn     func(setter, plan.Limits) error
	}
	for _, p := range []part{
		{"memory", memoryWanted(l), m.v1Memory},
		{"cpu", cpuWanted(l), v1CPU},
		{"cpuset", l.CPUSet != "", m.v1Cpuset},
		{"pids", l.PidsMax > 0, v1Pids},
		{"blkio", blkioWanted(l), m.v1Blkio},
	} {
		h, ok := m.find(p.ctrl)
		if !ok {
			if p.wanted {
				return missingController(p.ctrl, "this host's cgroup v1 hierarchies")
			}
			continue
		}
		if err := p.fn(m.setter(h, w), l); err != nil {
			return err
		}
	}
	return nil
}

func v1Bytes(v uint64) string {
	if v == 0 {
		return v1Unlimited
	}
	return strconv.FormatUint(v, 10)
}

func (m *manager) v1Memory(s setter, l plan.Limits) error {
	mem, memsw := v1Bytes(l.MemoryBytes), v1Bytes(l.SwapBytes)
	swFile := filepath.Join(s.dir, "memory.memsw.limit_in_bytes")
	order := []func() error{
		func() error { return s.set("memory.limit_in_bytes", mem, "MemoryBytes", l.MemoryBytes > 0) },
		func() error {
			if !exists(swFile) {
				if l.SwapBytes > 0 {
					*s.w = append(*s.w, Warning{Limit: "SwapBytes",
						Reason: "memory.memsw.limit_in_bytes is missing (kernel without swap accounting: swapaccount=1)"})
				}
				return nil
			}
			return s.set("memory.memsw.limit_in_bytes", memsw, "SwapBytes", l.SwapBytes > 0)
		},
	}
	// The kernel keeps memory <= memory+swap at every step: when memory
	// grows past the current memsw limit (or memsw is lowered below the
	// current memory limit), memsw must move first.
	if exists(swFile) {
		cur, err := readUint(swFile)
		if err != nil {
			return err
		}
		if l.MemoryBytes == 0 || l.MemoryBytes > cur {
			order[0], order[1] = order[1], order[0]
		}
	}
	for _, f := range order {
		if err := f(); err != nil {
			return err
		}
	}
	return s.set("memory.soft_limit_in_bytes", v1Bytes(l.MemorySoftBytes), "MemorySoftBytes", l.MemorySoftBytes > 0)
}

func v1CPU(s setter, l plan.Limits) error {
	shares := l.CPUShares
	if shares == 0 {
		shares = defaultCPUShares
	}
	if err := s.set("cpu.shares", strconv.FormatUint(shares, 10), "CPUShares", l.CPUShares > 0); err != nil {
		return err
	}
	period := l.CPUPeriodUS
	if period == 0 {
		period = defaultCFSPeriodUS
	}
	// Lift the quota before changing the period: the kernel checks the
	// pair at each write.
	if err := s.set("cpu.cfs_quota_us", v1Unlimited, "CPUQuotaUS", false); err != nil {
		return err
	}
	if err := s.set("cpu.cfs_period_us", strconv.FormatUint(period, 10), "CPUPeriodUS", l.CPUPeriodUS > 0); err != nil {
		return err
	}
	if l.CPUQuotaUS > 0 {
		return s.set("cpu.cfs_quota_us", strconv.FormatInt(l.CPUQuotaUS, 10), "CPUQuotaUS", true)
	}
	return nil
}

func (m *manager) v1Cpuset(s setter, l plan.Limits) error {
	cpus := l.CPUSet
	if cpus == "" {
		parent, err := readString(filepath.Join(filepath.Dir(s.dir), "cpuset.cpus"))
		if err != nil {
			return fmt.Errorf("read parent cpuset: %w", err)
		}
		cpus = parent
	}
	return s.set("cpuset.cpus", cpus, "CPUSet", l.CPUSet != "")
}

func pidsValue(n int64) string {
	if n <= 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}

func v1Pids(s setter, l plan.Limits) error {
	return s.set("pids.max", pidsValue(l.PidsMax), "PidsMax", l.PidsMax > 0)
}

func (m *manager) v1Blkio(s setter, l plan.Limits) error {
	if l.BlkioWeight > 0 {
		w := strconv.FormatUint(l.BlkioWeight, 10)
		if err := s.setFirst([]string{"blkio.weight", "blkio.bfq.weight"}, w, "BlkioWeight", true); err != nil {
			return err
		}
	}
	devs, err := m.resolveDevices(l.BlkioDevices)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if d.Weight > 0 {
			v := d.num + " " + strconv.FormatUint(d.Weight, 10)
			if err := s.setFirst([]string{"blkio.weight_device", "blkio.bfq.weight_device"}, v, "BlkioDevices.Weight", true); err != nil {
				return err
			}
		}
		// 0 removes a device's throttle rule in v1.
		for _, t := range []struct {
			file string
			v    uint64
		}{
			{"blkio.throttle.read_bps_device", d.ReadBps},
			{"blkio.throttle.write_bps_device", d.WriteBps},
			{"blkio.throttle.read_iops_device", d.ReadIops},
			{"blkio.throttle.write_iops_device", d.WriteIops},
		} {
			if err := s.set(t.file, d.num+" "+strconv.FormatUint(t.v, 10), "BlkioDevices", t.v > 0); err != nil {
				return err
			}
		}
	}
	return nil
}
