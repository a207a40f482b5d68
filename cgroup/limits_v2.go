package cgroup

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"vmlite/plan"
)

// applyV2 maps plan limits onto cgroup2 files:
//
//	MemoryBytes      memory.max
//	MemorySoftBytes  memory.low (best-effort protection: under memory pressure
//	                 the guest is reclaimed down towards it, which is what a v1
//	                 soft limit does. libvirt writes memory.high instead, which
//	                 throttles even on an idle host; runc and crun use memory.low.)
//	SwapBytes        memory.swap.max = SwapBytes - MemoryBytes (v2 counts swap alone)
//	CPUShares        cpu.weight = 1 + (shares-2)*9999/262142
//	CPUPeriodUS/QuotaUS  cpu.max "QUOTA PERIOD" ("max PERIOD" without a quota)
//	CPUSet           cpuset.cpus
//	PidsMax          pids.max
//	BlkioWeight      io.weight "default W" (or io.bfq.weight)
//	BlkioDevices     io.weight "MAJ:MIN W", io.max "MAJ:MIN rbps= wbps= riops= wiops="
//
// A controller a requested limit needs must be enabled down to the guest;
// vmlite enables it in its own directories but never in the host's root.
func (m *manager) applyV2(l plan.Limits, w *Warnings) error {
	h := m.hs[0]
	s := m.setter(h, w)
	availStr, err := readString(filepath.Join(s.dir, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("read controllers of %s: %w", s.dir, err)
	}
	avail := strings.Fields(availStr)
	for _, need := range []struct {
		ctrl   string
		wanted bool
	}{
		{"memory", memoryWanted(l)}, {"cpu", cpuWanted(l)}, {"cpuset", l.CPUSet != ""},
		{"pids", l.PidsMax > 0}, {"io", blkioWanted(l)},
	} {
		if need.wanted && !contains(avail, need.ctrl) {
			return missingController(need.ctrl, filepath.Join(h.root, "cgroup.subtree_control"))
		}
	}
	for _, fn := range []func(setter, plan.Limits) error{v2Memory, v2CPU, v2Cpuset, v2Pids, m.v2IO} {
		if err := fn(s, l); err != nil {
			return err
		}
	}
	return nil
}

func v2Bytes(v uint64) string {
	if v == 0 {
		return "max"
	}
	return strconv.FormatUint(v, 10)
}

func v2Memory(s setter, l plan.Limits) error {
	if err := s.set("memory.max", v2Bytes(l.MemoryBytes), "MemoryBytes", l.MemoryBytes > 0); err != nil {
		return err
	}
	if err := s.set("memory.low", strconv.FormatUint(l.MemorySoftBytes, 10), "MemorySoftBytes", l.MemorySoftBytes > 0); err != nil {
		return err
	}
	swap := "max"
	if l.SwapBytes > 0 {
		swap = strconv.FormatUint(l.SwapBytes-l.MemoryBytes, 10) // ValidateLimits: SwapBytes >= MemoryBytes > 0
	}
	return s.set("memory.swap.max", swap, "SwapBytes", l.SwapBytes > 0)
}

func v2CPU(s setter, l plan.Limits) error {
	weight := SharesToWeight(l.CPUShares)
	if err := s.set("cpu.weight", strconv.FormatUint(weight, 10), "CPUShares", l.CPUShares > 0); err != nil {
		return err
	}
	period := l.CPUPeriodUS
	if period == 0 {
		period = defaultCFSPeriodUS
	}
	quota := "max"
	if l.CPUQuotaUS > 0 {
		quota = strconv.FormatInt(l.CPUQuotaUS, 10)
	}
	return s.set("cpu.max", quota+" "+strconv.FormatUint(period, 10), "CPUQuotaUS", l.CPUQuotaUS > 0 || l.CPUPeriodUS > 0)
}

func v2Cpuset(s setter, l plan.Limits) error {
	// An empty cpuset.cpus means "the parent's", which is also how a reset
	// is written.
	v := l.CPUSet
	if v == "" {
		v = "\n"
	}
	return s.set("cpuset.cpus", v, "CPUSet", l.CPUSet != "")
}

func v2Pids(s setter, l plan.Limits) error {
	return s.set("pids.max", pidsValue(l.PidsMax), "PidsMax", l.PidsMax > 0)
}

func (m *manager) v2IO(s setter, l plan.Limits) error {
	if l.BlkioWeight > 0 {
		w := strconv.FormatUint(l.BlkioWeight, 10)
		if err := s.setFirst([]string{"io.weight", "io.bfq.weight"}, "default "+w, "BlkioWeight", true); err != nil {
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
			if err := s.setFirst([]string{"io.weight", "io.bfq.weight"}, v, "BlkioDevices.Weight", true); err != nil {
				return err
			}
		}
		v := fmt.Sprintf("%s rbps=%s wbps=%s riops=%s wiops=%s", d.num,
			v2Bytes(d.ReadBps), v2Bytes(d.WriteBps), v2Bytes(d.ReadIops), v2Bytes(d.WriteIops))
		wanted := d.ReadBps > 0 || d.WriteBps > 0 || d.ReadIops > 0 || d.WriteIops > 0
		if err := s.set("io.max", v, "BlkioDevices", wanted); err != nil {
			return err
		}
	}
	return nil
}
