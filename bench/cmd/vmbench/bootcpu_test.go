package main

import (
	"math"
	"testing"
	"time"
)

func TestParseCPUStat(t *testing.T) {
	got, err := parseCPUStat("cpu  100 5 40 800 10 1 2 0 0 0\ncpu0 50 2 20 400 5 0 1 0 0 0\n")
	if err != nil {
		t.Fatal(err)
	}
	want := hostTicks{user: 100, nice: 5, system: 40, idle: 800, iowait: 10, irq: 1, softirq: 2}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 x 4 5 6 7 8"} {
		if _, err := parseCPUStat(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestBootCPU(t *testing.T) {
	before := hostTicks{user: 100, system: 50, idle: 1000}
	// 2 s on two CPUs (400 ticks): 200 user, 100 system, 20 softirq, 80 idle.
	after := hostTicks{user: 300, system: 150, idle: 1080, softirq: 20}
	boots := []time.Duration{3 * time.Second, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second}
	b := bootCPU(before, after, 10, 50*time.Millisecond, boots)
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("user", b.UserMsPerGuest, 200)
	near("system", b.SystemMsPerGuest, 100)
	near("irq", b.IRQMsPerGuest, 20)
	near("idle", b.IdlePct, 20)
	near("start commands", b.StartCmdMsPerGuest, 5)
	near("first", b.FirstBootS, 1)
	near("median", b.MedianBootS, 3)
	near("p90", b.P90BootS, 4)
	if bootCPU(before, after, 0, 0, nil) != nil {
		t.Error("no guest booted: want nil")
	}
}
