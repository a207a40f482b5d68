//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStdDeviceNodes: every guest has /dev/null, zero, full, random,
// urandom and tty with the host's type, numbers and mode, and they work. A
// guest without a user namespace gets copies made in its /dev (no mount
// each, as LXC's autodev), so its chmod of /dev/null leaves the host's
// alone; a mapped guest gets its root's copies attached.
func TestStdDeviceNodes(t *testing.T) {
	nodes := []string{"null", "zero", "full", "random", "urandom", "tty"}
	for _, mapped := range []bool{false, true} {
		t.Run(fmt.Sprintf("idmap=%v", mapped), func(t *testing.T) {
			h := newHarness(t)
			name := h.uniqueName("it-dev")
			xml, _ := h.busybox(name, mapped)
			h.must("start", xml)
			h.waitConsole(name, "vmlite-guest: BOOTED "+name)
			for _, n := range nodes {
				var st unix.Stat_t
				if err := unix.Stat("/dev/"+n, &st); err != nil {
					t.Fatal(err)
				}
				want := fmt.Sprintf("%x,%x %o", unix.Major(st.Rdev), unix.Minor(st.Rdev), st.Mode&0o777)
				got := strings.TrimSpace(h.must("exec", name, "--", "stat", "-c", "%t,%T %a %F", "/dev/"+n).stdout)
				if got != want+" character special file" {
					t.Errorf("guest /dev/%s: %q, want %q (the host's)", n, got, want+" character special file")
				}
			}
			r := h.must("exec", name, "--", "sh", "-c", "echo x > /dev/null && head -c 5 /dev/zero | wc -c && head -c 3 /dev/urandom | wc -c")
			if f := strings.Fields(r.stdout); len(f) != 2 || f[0] != "5" || f[1] != "3" {
				t.Errorf("reading the guest's /dev/zero and /dev/urandom: %q", r.stdout)
			}
			if r := h.run("exec", name, "--", "sh", "-c", "echo x > /dev/full"); r.code == 0 {
				t.Errorf("a write to the guest's /dev/full succeeded: %v", r)
			}
			binds := strings.TrimSpace(h.must("exec", name, "--", "sh", "-c", "grep -c -E ' /dev/(null|zero|full|random|urandom|tty) ' /proc/self/mountinfo || true").stdout)
			if !mapped {
				if binds != "0" {
					t.Errorf("%s mounts on the standard nodes of an unmapped guest, want copies (none)", binds)
				}
				var before unix.Stat_t
				if err := unix.Stat("/dev/null", &before); err != nil {
					t.Fatal(err)
				}
				h.must("exec", name, "--", "chmod", "600", "/dev/null")
				var after unix.Stat_t
				if err := unix.Stat("/dev/null", &after); err != nil {
					t.Fatal(err)
				}
				if after.Mode != before.Mode {
					unix.Chmod("/dev/null", before.Mode&0o7777)
					t.Errorf("the guest's chmod of its /dev/null changed the host's: %o -> %o", before.Mode, after.Mode)
				}
			}
			h.must("destroy", name)
			h.assertGone(name)
		})
	}
}
