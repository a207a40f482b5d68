package lxcconf

import (
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// cgroup converts lxc.cgroup.* (v1, as libvirt) and the common
// lxc.cgroup2.* keys.
func (c *converter) cgroup(e entry) error {
	x := c.x
	k := strings.TrimPrefix(strings.TrimPrefix(e.key, "lxc.cgroup2."), "lxc.cgroup.")
	v2 := strings.HasPrefix(e.key, "lxc.cgroup2.")
	memtune := func() *libvirtxml.DomainMemoryTune {
		if x.MemoryTune == nil {
			x.MemoryTune = &libvirtxml.DomainMemoryTune{}
		}
		return x.MemoryTune
	}
	limit := func() (*libvirtxml.DomainMemoryTuneLimit, error) {
		kib, err := sizeKiB(e.value)
		if err != nil {
			return nil, c.errorf(e, "%v", err)
		}
		return &libvirtxml.DomainMemoryTuneLimit{Value: kib, Unit: "KiB"}, nil
	}
	cputune := func() *libvirtxml.DomainCPUTune {
		if x.CPUTune == nil {
			x.CPUTune = &libvirtxml.DomainCPUTune{}
		}
		return x.CPUTune
	}
	uintVal := func() (uint64, error) {
		n, err := strconv.ParseUint(e.value, 10, 64)
		if err != nil {
			return 0, c.errorf(e, "not a number: %q", e.value)
		}
		return n, nil
	}
	switch {
	case k == "devices.allow" || k == "devices.deny":
		c.warn(e, "not converted: vmlite gives the guest a fixed set of device nodes; pass others with <hostdev>")
	case (k == "memory.limit_in_bytes" && !v2) || (k == "memory.max" && v2):
		if e.value == "max" || e.value == "-1" {
			return nil
		}
		l, err := limit()
		if err != nil {
			return err
		}
		memtune().HardLimit = l
		x.Memory = &libvirtxml.DomainMemory{Value: uint(l.Value), Unit: "KiB"}
		x.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(l.Value), Unit: "KiB"}
	case (k == "memory.soft_limit_in_bytes" && !v2) || (k == "memory.high" && v2):
		if e.value == "max" || e.value == "-1" {
			return nil
		}
		l, err := limit()
		if err != nil {
			return err
		}
		memtune().SoftLimit = l
	case k == "memory.memsw.limit_in_bytes" && !v2:
		l, err := limit()
		if err != nil {
			return err
		}
		memtune().SwapHardLimit = l
	case k == "cpu.shares" && !v2:
		n, err := uintVal()
		if err != nil {
			return err
		}
		cputune().Shares = &libvirtxml.DomainCPUTuneShares{Value: uint(n)}
	case k == "cpu.cfs_quota_us" && !v2:
		n, err := strconv.ParseInt(e.value, 10, 64)
		if err != nil {
			return c.errorf(e, "not a number: %q", e.value)
		}
		cputune().Quota = &libvirtxml.DomainCPUTuneQuota{Value: n}
	case k == "cpu.cfs_period_us" && !v2:
		n, err := uintVal()
		if err != nil {
			return err
		}
		cputune().Period = &libvirtxml.DomainCPUTunePeriod{Value: n}
	case k == "cpu.max" && v2:
		f := strings.Fields(e.value)
		if len(f) >= 1 && f[0] != "max" {
			q, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return c.errorf(e, "not a quota: %q", f[0])
			}
			cputune().Quota = &libvirtxml.DomainCPUTuneQuota{Value: q}
		}
		if len(f) == 2 {
			p, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return c.errorf(e, "not a period: %q", f[1])
			}
			cputune().Period = &libvirtxml.DomainCPUTunePeriod{Value: p}
		}
	case k == "cpuset.cpus":
		set, err := normaliseCPUSet(e.value)
		if err != nil {
			return c.errorf(e, "%v", err)
		}
		x.VCPU.CPUSet = set
	case k == "cpuset.mems":
		set, err := normaliseCPUSet(e.value)
		if err != nil {
			return c.errorf(e, "%v", err)
		}
		x.NUMATune = &libvirtxml.DomainNUMATune{Memory: &libvirtxml.DomainNUMATuneMemory{Mode: "strict", Nodeset: set}}
	case k == "blkio.weight" && !v2:
		n, err := uintVal()
		if err != nil {
			return err
		}
		c.blkioTune().Weight = uint(n)
	case !v2 && (k == "blkio.device_weight" || strings.HasPrefix(k, "blkio.throttle.")):
		return c.blkioDevice(e, k)
	default:
		c.warn(e, "not converted: vmlite has no equivalent for this cgroup key")
	}
	return nil
}

func (c *converter) blkioTune() *libvirtxml.DomainBlockIOTune {
	if c.x.BlockIOTune == nil {
		c.x.BlockIOTune = &libvirtxml.DomainBlockIOTune{}
	}
	return c.x.BlockIOTune
}

// blkioDevice reads "MAJ:MIN VALUE" into a per-device limit on
// /dev/block/MAJ:MIN, as libvirt does.
func (c *converter) blkioDevice(e entry, k string) error {
	f := strings.Fields(e.value)
	if len(f) != 2 || !strings.Contains(f[0], ":") {
		return c.errorf(e, "expected 'MAJOR:MINOR VALUE', got %q", e.value)
	}
	n, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return c.errorf(e, "not a number: %q", f[1])
	}
	c.blkioTune()
	path := "/dev/block/" + f[0]
	d, ok := c.blkio[path]
	if !ok {
		d = &libvirtxml.DomainBlockIOTuneDevice{Path: path}
		c.blkio[path] = d
		c.blkioOrder = append(c.blkioOrder, path)
	}
	switch k {
	case "blkio.device_weight":
		d.Weight = uint(n)
	case "blkio.throttle.read_bps_device":
		d.ReadBytesSec = uint(n)
	case "blkio.throttle.write_bps_device":
		d.WriteBytesSec = uint(n)
	case "blkio.throttle.read_iops_device":
		d.ReadIopsSec = uint(n)
	case "blkio.throttle.write_iops_device":
		d.WriteIopsSec = uint(n)
	default:
		c.warn(e, "not converted: vmlite has no equivalent for this cgroup key")
	}
	return nil
}

// normaliseCPUSet rewrites a CPU list the way libvirt formats bitmaps:
// sorted, ranges merged ("1,2,5-7" -> "1-2,5-7").
func normaliseCPUSet(s string) (string, error) {
	set := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		b := a
		if isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b > 65535 {
			return "", errorString("not a CPU list: " + strconv.Quote(s))
		}
		for i := a; i <= b; i++ {
			set[i] = true
		}
	}
	var out []string
	for i := 0; i <= 65535; i++ {
		if !set[i] {
			continue
		}
		j := i
		for set[j+1] {
			j++
		}
		if j > i {
			out = append(out, strconv.Itoa(i)+"-"+strconv.Itoa(j))
		} else {
			out = append(out, strconv.Itoa(i))
		}
		i = j
	}
	return strings.Join(out, ","), nil
}

type errorString string

// Error returns the message.
func (e errorString) Error() string { return string(e) }
