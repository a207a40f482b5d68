package cgroup

import (
	"reflect"
	"testing"

	"vmlite/plan"
)

func TestLiveLimits(t *testing.T) {
	dir := t.TempDir()
	launched := plan.Limits{MemoryBytes: 64 * mib, PidsMax: 100}
	got, err := LoadLive(dir, launched)
	if err != nil || !reflect.DeepEqual(got, launched) {
		t.Fatalf("LoadLive without a record = %+v, %v; want the launched limits", got, err)
	}
	now := plan.Limits{MemoryBytes: 128 * mib, CPUQuotaUS: 50000, BlkioDevices: []plan.BlkioDevice{{Path: "/dev/vda", ReadBps: 1}}}
	if err := SaveLive(dir, now); err != nil {
		t.Fatal(err)
	}
	got, err = LoadLive(dir, launched)
	if err != nil || !reflect.DeepEqual(got, now) {
		t.Fatalf("LoadLive = %+v, %v; want %+v", got, err, now)
	}
}
