package procfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"vmlite/internal/procstat"
)

func TestEntryGone(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	self, err := procstat.Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// A pid that has certainly ended: a child we started and reaped.
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	dead := c.Process.Pid
	for _, tc := range []struct {
		name string
		e    Entry
		age  time.Duration
		gone bool
	}{
		{"live init", Entry{Name: "a", InitPID: os.Getpid(), InitStart: self.StartTime}, 0, false},
		{"live init, start unknown", Entry{Name: "b", InitPID: os.Getpid()}, 0, false},
		{"pid reused", Entry{Name: "c", InitPID: os.Getpid(), InitStart: self.StartTime + 1}, 0, true},
		{"init ended", Entry{Name: "d", InitPID: dead}, 0, true},
		{"starting", Entry{Name: "e"}, time.Second, false},
		{"start abandoned", Entry{Name: "f"}, startGrace + time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.e.Partition, tc.e.CgroupDir = "/machine", tc.e.Name+".0123abcd"
			if err := l.Register(tc.e); err != nil {
				t.Fatal(err)
			}
			mt := time.Now().Add(-tc.age)
			if err := os.Chtimes(filepath.Join(l.GuestsDir(), tc.e.Name), mt, mt); err != nil {
				t.Fatal(err)
			}
			if gone, why := entryGone(l, tc.e, time.Now()); gone != tc.gone {
				t.Fatalf("gone = %v (%s), want %v", gone, why, tc.gone)
			}
		})
	}
}
