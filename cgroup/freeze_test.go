package cgroup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/plan"
)

// TestFreezeThawFake: suspend writes cgroup.freeze (v2) or freezer.state
// (v1) and waits for the kernel's word; resume undoes it.
func TestFreezeThawFake(t *testing.T) {
	for _, tc := range []struct {
		mode                       Mode
		ctl, file, report          string
		frozen, thawed, reportDone string
	}{
		{V2, "", "cgroup.freeze", "cgroup.events", "1", "0", "populated 1\nfrozen 1\n"},
		{V1, "freezer", "freezer.state", "freezer.state", "FROZEN", "THAWED", "FROZEN"},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			root, f := fakeHost(t, tc.mode, []string{"cpu", "memory", "pids"})
			m := newFake(t, root, f, plan.Cgroup{Partition: "/machine", Name: "g"})
			if err := m.Create(); err != nil {
				t.Fatal(err)
			}
			key := "unified"
			if tc.mode == V1 {
				key = tc.ctl
			}
			dir := m.Paths()[key]
			read := func(f string) string {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				return strings.TrimSpace(string(b))
			}
			if tc.mode == V2 {
				// The faked kernel reports frozen at once.
				if err := os.WriteFile(filepath.Join(dir, tc.report), []byte(tc.reportDone), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := m.Freeze(); err != nil {
				t.Fatal(err)
			}
			if got := read(tc.file); got != tc.frozen {
				t.Errorf("%s after Freeze: %q", tc.file, got)
			}
			if err := m.Thaw(); err != nil {
				t.Fatal(err)
			}
			if got := read(tc.file); got != tc.thawed {
				t.Errorf("%s after Thaw: %q", tc.file, got)
			}
		})
	}
}
