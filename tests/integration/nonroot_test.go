//go:build integration

package integration

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestListNeedsRoot: `vmlite list` as an unprivileged user, with a guest
// running, says that it needs root and fails instead of printing an empty
// table (which would claim that nothing runs).
func TestListNeedsRoot(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("nr")
	x, _ := h.busybox(name, false)
	h.must("start", x)
	cmd := exec.Command(bin, "--root", h.root, "list")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 || !strings.Contains(errb.String(), "needs root") {
		t.Fatalf("list as nobody: err %v, stdout %q, stderr %q; want a non-zero exit saying it needs root", err, out.String(), errb.String())
	}
	if !strings.Contains(h.must("list").stdout, name) {
		t.Errorf("list as root does not show %s", name)
	}
}
