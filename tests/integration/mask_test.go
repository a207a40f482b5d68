//go:build integration

package integration

import (
	"os"
	"strings"
	"testing"
)

// TestMaskedDirectories: the directories vmlite hides from a guest
// (/sys/firmware, /sys/kernel/debug, ...) are empty and read-only, with
// and without <idmap>, and they are one tmpfs instance bound over each, not
// a superblock each, and one for all the guests of a supervisor (issue 17:
// a superblock per mask per guest).
func TestMaskedDirectories(t *testing.T) {
	h := newHarness(t)
	var dirs []string
	for _, d := range []string{"/proc/acpi", "/proc/scsi", "/proc/asound", "/sys/firmware", "/sys/kernel/debug", "/sys/kernel/security", "/sys/devices/virtual/powercap", "/sys/fs/selinux"} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) < 2 {
		t.Skipf("SKIP: this host has %d of the masked directories (%v); two are needed to see them share a tmpfs", len(dirs), dirs)
	}
	// Both guests run at once: a supervisor's guests share its one mask
	// tmpfs (one superblock for all of them, not one each).
	maskDev := map[int]map[string]bool{} // by supervisor pid
	var names []string
	for _, idmap := range []bool{false, true} {
		name := h.uniqueName("mask")
		names = append(names, name)
		xml, _ := h.busybox(name, idmap)
		h.must("start", xml)
		h.waitConsole(name, "vmlite-guest: BOOTED "+name)
		// One line per directory: its device number and entry count.
		script := `for d in "$@"; do echo "$d $(stat -c %d "$d") $(ls -A "$d" | wc -l)"; done`
		out := h.must(append([]string{"exec", name, "--", "/bin/sh", "-c", script, "sh"}, dirs...)...).stdout
		devs := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				t.Fatalf("idmap=%v: unexpected line %q in\n%s", idmap, line, out)
			}
			devs[f[1]] = true
			if f[2] != "0" {
				t.Errorf("idmap=%v: %s has %s entries in the guest, want none", idmap, f[0], f[2])
			}
		}
		if len(devs) != 1 {
			t.Errorf("idmap=%v: masked directories on %d filesystems, want one shared tmpfs:\n%s", idmap, len(devs), out)
		}
		sv := h.status(name).SupervisorPID
		if maskDev[sv] == nil {
			maskDev[sv] = map[string]bool{}
		}
		for d := range devs {
			maskDev[sv][d] = true
		}
		for _, d := range dirs {
			r := h.run("exec", name, "--", "/bin/touch", d+"/x")
			if r.code == 0 || !strings.Contains(r.stderr, "Read-only") {
				t.Errorf("idmap=%v: touch %s/x in the guest: %v, want a read-only file system", idmap, d, r)
			}
		}
		mi := h.must("exec", name, "--", "/bin/cat", "/proc/self/mountinfo").stdout
		for _, d := range dirs {
			found := false
			for _, line := range strings.Split(mi, "\n") {
				f := strings.Fields(line)
				if len(f) > 5 && f[4] == d {
					found = true
					if opts := strings.Split(f[5], ","); opts[0] != "ro" || !strings.Contains(f[5], "nosuid") || !strings.Contains(f[5], "noexec") {
						t.Errorf("idmap=%v: %s mounted %s, want ro,nosuid,nodev,noexec", idmap, d, f[5])
					}
				}
			}
			if !found {
				t.Errorf("idmap=%v: no mount on %s in the guest:\n%s", idmap, d, mi)
			}
		}
	}
	for sv, devs := range maskDev {
		if len(devs) != 1 {
			t.Errorf("the guests of supervisor %d have their masks on %d filesystems (%v), want the supervisor's one", sv, len(devs), devs)
		}
	}
	if len(maskDev) != 1 {
		t.Errorf("the two guests ran in %d supervisors, want one shared supervisor (the default) to see them share its masks", len(maskDev))
	}
	for _, name := range names {
		h.must("destroy", name)
		h.assertGone(name)
	}
}
