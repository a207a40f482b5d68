package devices

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// TestApplyV1 applies the allow-list to a devices cgroup of the test's own
// and checks the kernel's list and a process in it: the standard nodes
// open, the host's disk does not, even for root.
func TestApplyV1(t *testing.T) {
	testutil.RequireRoot(t)
	root := "/sys/fs/cgroup/devices"
	if _, err := os.Stat(filepath.Join(root, "devices.allow")); err != nil {
		t.Skip("SKIPPED LOUDLY: no cgroup v1 devices controller on this host (cgroup v2: see docs/security.md)")
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	dir := filepath.Join(root, "vmlite-devcg-test-"+hex.EncodeToString(b))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })

	disk := rootDisk(t)
	rules := append([]Rule{}, Standard...)
	if hostdev, err := ForNode("/dev/kmsg"); err == nil { // a <hostdev> as the supervisor adds one
		if hostdev.String() != "c 1:11 rwm" {
			t.Errorf("ForNode(/dev/kmsg) = %q", hostdev)
		}
		rules = append(rules, hostdev)
	}
	if _, err := ForNode("/etc/passwd"); err == nil {
		t.Error("ForNode accepted a regular file")
	}
	if err := ApplyV1(dir, rules); err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(filepath.Join(dir, "devices.list"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range rules {
		want = append(want, r.String())
	}
	got := strings.Split(strings.TrimSpace(string(list)), "\n")
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("devices.list = %q, want %q", got, want)
	}

	// A root shell in the cgroup: /dev/null opens, the disk does not.
	sh := exec.Command("/bin/sh", "-c", `echo $$ > "$1/cgroup.procs" && head -c 0 /dev/null && echo NULL-OK; head -c 1 "$2" >/dev/null && echo DISK-OPENED`, "sh", dir, disk)
	out, _ := sh.CombinedOutput()
	if !strings.Contains(string(out), "NULL-OK") || strings.Contains(string(out), "DISK-OPENED") || !strings.Contains(string(out), "ermitted") {
		t.Errorf("in the cgroup: %s", out)
	}
	t.Logf("root in the restricted cgroup: %s", strings.TrimSpace(string(out)))
}

// rootDisk is the block device of the host's root filesystem, as a node
// made in the test's temp dir (the host's /dev names may differ).
func rootDisk(t *testing.T) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	node := filepath.Join(t.TempDir(), "disk")
	if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(st.Dev)); err != nil {
		t.Fatal(err)
	}
	return node
}
