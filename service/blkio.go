package service

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"vmlite/cgroup"
	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// Blkio is a guest's block I/O tuning: its weight (0: the kernel's
// default) and per-device limits, in <blkiotune>'s terms.
type Blkio struct {
	Weight  uint64
	Devices []plan.BlkioDevice
}

// BlkioChange names what to change (nil: leave it). Each of Devices sets
// the values it names for its device, merged into the existing list by
// path as libvirt merges them: other devices and other values stay, a 0
// removes that value, and a device left with no value goes.
type BlkioChange struct {
	Weight  *uint64
	Devices []BlkioDeviceChange
}

// BlkioDeviceChange is one device's values to set (nil: leave it).
type BlkioDeviceChange struct {
	Path                                           string
	Weight, ReadBps, WriteBps, ReadIops, WriteIops *uint64
}

func (c BlkioChange) empty() bool { return c.Weight == nil && len(c.Devices) == 0 }

// BlkioTune shows or changes the block I/O tuning of guest name, as
// MemoryTune does for memory: the running guest's cgroup, the stored
// <blkiotune>, or both; it returns the result.
func (s *Service) BlkioTune(ctx context.Context, name string, change BlkioChange, affect Affect) (Blkio, Warnings, error) {
	b, ws, err := s.blkioTune(ctx, name, change, affect)
	return b, ws, classify(onDomain, err)
}

func (s *Service) blkioTune(ctx context.Context, name string, change BlkioChange, affect Affect) (Blkio, Warnings, error) {
	for _, d := range change.Devices {
		if err := blockDevice(d.Path); err != nil {
			return Blkio{}, nil, err
		}
	}
	run, stored, err := s.targets(name, affect)
	if err != nil {
		return Blkio{}, nil, err
	}
	if change.empty() {
		if stored != nil {
			return blkioOf(domain.Blkiotune(stored.x())), nil, nil
		}
		return run.blkio()
	}
	if err := live(ctx); err != nil {
		return Blkio{}, nil, err
	}
	var shown plan.Limits
	if stored != nil {
		x := stored.x()
		l := domain.Blkiotune(x)
		applyBlkio(&l, change, true)
		if err := cgroup.ValidateLimits(l); err != nil {
			return Blkio{}, nil, err
		}
		domain.SetBlkiotune(x, l)
		if err := stored.check(); err != nil {
			return Blkio{}, nil, err
		}
		shown = l
	}
	var ws Warnings
	if run != nil {
		l := run.limits
		// Zeros are written (a v1 throttle rule of 0 is removed), and
		// dropped from what is recorded afterwards.
		applyBlkio(&l, change, false)
		if err := cgroup.ValidateLimits(l); err != nil {
			return Blkio{}, nil, err
		}
		w, err := run.set(l)
		ws = w
		if err != nil {
			return Blkio{}, ws, err
		}
		dropEmptyDevices(&l)
		if err := run.record(l); err != nil {
			return Blkio{}, ws, err
		}
		shown = l
	}
	if stored != nil {
		if err := stored.save(); err != nil {
			return Blkio{}, ws, err
		}
	}
	return blkioOf(shown), ws, nil
}

// applyBlkio merges change into l; drop removes devices left without a
// value.
func applyBlkio(l *plan.Limits, change BlkioChange, drop bool) {
	if change.Weight != nil {
		l.BlkioWeight = *change.Weight
	}
	devs := append([]plan.BlkioDevice(nil), l.BlkioDevices...)
	for _, c := range change.Devices {
		i := 0
		for i < len(devs) && devs[i].Path != c.Path {
			i++
		}
		if i == len(devs) {
			devs = append(devs, plan.BlkioDevice{Path: c.Path})
		}
		d := &devs[i]
		for _, f := range []struct {
			v   *uint64
			dst *uint64
		}{{c.Weight, &d.Weight}, {c.ReadBps, &d.ReadBps}, {c.WriteBps, &d.WriteBps}, {c.ReadIops, &d.ReadIops}, {c.WriteIops, &d.WriteIops}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
	}
	l.BlkioDevices = devs
	if drop {
		dropEmptyDevices(l)
	}
}

func dropEmptyDevices(l *plan.Limits) {
	var keep []plan.BlkioDevice
	for _, d := range l.BlkioDevices {
		if d.Weight != 0 || d.ReadBps != 0 || d.WriteBps != 0 || d.ReadIops != 0 || d.WriteIops != 0 {
			keep = append(keep, d)
		}
	}
	l.BlkioDevices = keep
}

func blkioOf(l plan.Limits) Blkio {
	return Blkio{Weight: l.BlkioWeight, Devices: l.BlkioDevices}
}

// blockDevice refuses a path that is not a block device: the kernel keys
// block I/O limits by device number.
func blockDevice(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: blkiotune device %s: %v", errdefs.ErrInvalid, path, err)
	}
	if fi.Mode()&os.ModeDevice == 0 || fi.Mode()&os.ModeCharDevice != 0 {
		return fmt.Errorf("%w: blkiotune device %s: not a block device", errdefs.ErrInvalid, path)
	}
	return nil
}

// blkio is a running guest's block I/O tuning as libvirt reads it live
// (lxcDomainGetBlkioParameters): the weight from its cgroup, which an
// administrator may have written since vmlite did, the per-device values
// as recorded (the kernel keys them by device number, not path).
func (g *runningGuest) blkio() (Blkio, Warnings, error) {
	b := blkioOf(g.limits)
	m, err := cgroup.Open(g.plan.Cgroup)
	if err != nil {
		return Blkio{}, nil, fmt.Errorf("guest %q: %w", g.plan.Name, err)
	}
	if b.Weight, err = m.BlkioWeight(); err != nil {
		return Blkio{}, nil, fmt.Errorf("guest %q: %w", g.plan.Name, err)
	}
	return b, nil, nil
}

// record keeps l as the guest's live limits without applying them.
func (g *runningGuest) record(l plan.Limits) error {
	g.limits = l
	return cgroup.SaveLive(g.runDir, l)
}

// DeviceValue is one PATH,VALUE pair of a device list.
type DeviceValue struct {
	Path  string
	Value uint64
}

// ParseDeviceValues reads a device list as libvirt writes one (virsh
// blkiotune --device-read-bytes-sec, the blkio typed parameters):
// "PATH,VALUE[,PATH,VALUE...]"; "" is none.
func ParseDeviceValues(s string) ([]DeviceValue, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts)%2 != 0 {
		return nil, fmt.Errorf("%w: %q: want PATH,VALUE pairs separated by commas", errdefs.ErrInvalid, s)
	}
	var out []DeviceValue
	for i := 0; i < len(parts); i += 2 {
		v, err := strconv.ParseUint(parts[i+1], 10, 64)
		if err != nil || parts[i] == "" {
			return nil, fmt.Errorf("%w: %q,%q is not a device path and a number", errdefs.ErrInvalid, parts[i], parts[i+1])
		}
		out = append(out, DeviceValue{Path: parts[i], Value: v})
	}
	return out, nil
}

// Device returns the change of device path in c, added if absent.
func (c *BlkioChange) Device(path string) *BlkioDeviceChange {
	for i := range c.Devices {
		if c.Devices[i].Path == path {
			return &c.Devices[i]
		}
	}
	c.Devices = append(c.Devices, BlkioDeviceChange{Path: path})
	return &c.Devices[len(c.Devices)-1]
}
