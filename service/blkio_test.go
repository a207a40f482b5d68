package service

import (
	"context"
	"os"
	"reflect"
	"testing"

	"vmlite/domain"
	"vmlite/plan"
)

// blockDev is a block device of this host, for the paths blkiotune takes.
func blockDev(t *testing.T) string {
	t.Helper()
	ents, _ := os.ReadDir("/sys/block")
	for _, e := range ents {
		p := "/dev/" + e.Name()
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0 {
			return p
		}
	}
	t.Skip("SKIP: no block device under /sys/block to name in a blkiotune")
	return ""
}

// TestBlkioTuneConfig: changes merge into the stored <blkiotune> by
// device, as libvirt merges them; a 0 removes a value and a device left
// without one; a path that is not a block device is InvalidArg and
// changes nothing.
func TestBlkioTuneConfig(t *testing.T) {
	s, _, _, xml := newTest(t)
	ctx := context.Background()
	dev := blockDev(t)
	if _, err := s.Define(ctx, "a.xml", xml("a", "")); err != nil {
		t.Fatal(err)
	}
	b, _, err := s.BlkioTune(ctx, "a", BlkioChange{Weight: u64(500), Devices: []BlkioDeviceChange{{Path: dev, ReadBps: u64(1000)}}}, AffectConfig)
	want := Blkio{Weight: 500, Devices: []plan.BlkioDevice{{Path: dev, ReadBps: 1000}}}
	if err != nil || !reflect.DeepEqual(b, want) {
		t.Fatalf("set: %+v, %v", b, err)
	}
	b, _, err = s.BlkioTune(ctx, "a", BlkioChange{Devices: []BlkioDeviceChange{{Path: dev, WriteIops: u64(7)}}}, AffectConfig)
	want.Devices[0].WriteIops = 7
	if err != nil || !reflect.DeepEqual(b, want) {
		t.Fatalf("merge: %+v, %v", b, err)
	}
	d, err := domain.NewStore(s.layout).Load("a")
	if err != nil || d.XML.BlockIOTune == nil || d.XML.BlockIOTune.Weight != 500 || len(d.XML.BlockIOTune.Device) != 1 ||
		d.XML.BlockIOTune.Device[0].ReadBytesSec != 1000 || d.XML.BlockIOTune.Device[0].WriteIopsSec != 7 {
		t.Fatalf("stored: %+v, %v", d.XML.BlockIOTune, err)
	}
	if _, _, err := s.BlkioTune(ctx, "a", BlkioChange{Devices: []BlkioDeviceChange{{Path: "/etc/hostname", ReadBps: u64(1)}}}, AffectConfig); CodeOf(err) != InvalidArg {
		t.Errorf("not a block device: %v (code %v), want InvalidArg", err, CodeOf(err))
	}
	if _, _, err := s.BlkioTune(ctx, "a", BlkioChange{Weight: u64(5)}, AffectConfig); CodeOf(err) != InvalidArg {
		t.Errorf("weight 5: %v (code %v), want InvalidArg", err, CodeOf(err))
	}
	b, _, err = s.BlkioTune(ctx, "a", BlkioChange{Weight: u64(0), Devices: []BlkioDeviceChange{{Path: dev, ReadBps: u64(0), WriteIops: u64(0)}}}, AffectConfig)
	if err != nil || b.Weight != 0 || len(b.Devices) != 0 {
		t.Fatalf("remove: %+v, %v", b, err)
	}
	if d, _ := domain.NewStore(s.layout).Load("a"); d.XML.BlockIOTune != nil {
		t.Errorf("stored after removal: %+v", d.XML.BlockIOTune)
	}
}

func u64(v uint64) *uint64 { return &v }
