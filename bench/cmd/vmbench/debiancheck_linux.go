package main

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
)

// systemState boots g once with p, asks the guest's systemd for its state
// and stops g again. A figure of a guest that is not "running" (a unit
// failed: "degraded") would compare boots that did different work.
func systemState(p peer, g *guest) string {
	if _, _, _, err := bootGuest(p, g); err != nil {
		p.cleanupGuest(g)
		return "boot failed: " + err.Error()
	}
	defer func() {
		var s cycleSample
		if err := stopGuest(p, g, true, &s); err != nil {
			p.cleanupGuest(g)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	// --wait: until the boot has finished (units ordered after the
	// marker's may still be starting).
	cmd := inGuest(ctx, p, g, "systemctl", "is-system-running", "--wait")
	if cmd == nil {
		return "not checked"
	}
	out, err := runCmd(cmd)
	state := strings.TrimSpace(lastLines(out, 1))
	if err != nil && state == "" {
		return "error: " + err.Error()
	}
	if state != "running" {
		failed, _ := runCmd(inGuest(ctx, p, g, "systemctl", "list-units", "--failed", "--plain", "--no-legend", "--no-pager"))
		state += " (failed: " + strings.Join(strings.Fields(failed), " ") + ")"
	}
	logf("debian: %s: systemd is %s", p.name(), state)
	return state
}

// inGuest runs args in g through the peer's own way into a guest: vmlite
// exec, lxc-attach, and nsenter for nspawn (which has no exec of its own
// without machined); nil for a peer without one.
func inGuest(ctx context.Context, p peer, g *guest, args ...string) *exec.Cmd {
	switch pp := p.(type) {
	case *vmlitePeer:
		return pp.cmdContext(ctx, append([]string{"exec", g.name, "--"}, args...)...)
	case *lxcPeer:
		return exec.CommandContext(ctx, "lxc-attach", append([]string{"-n", g.name, "-P", pp.path, "--"}, args...)...)
	case *nspawnPeer:
		return exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(g.init), "-a"}, args...)...)
	}
	return nil
}
