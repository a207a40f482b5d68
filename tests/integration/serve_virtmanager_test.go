//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// screenshotPy saves the X root window as a PNG (GTK is there with
// virt-manager; no xwd needed).
const screenshotPy = `import sys, gi
gi.require_version('Gdk', '3.0')
from gi.repository import Gdk
w = Gdk.get_default_root_window()
Gdk.pixbuf_get_from_window(w, 0, 0, w.get_width(), w.get_height()).savev(sys.argv[1], "png", [], [])
`

// TestServeVirtManager: virt-manager under Xvfb connects, finds the
// running guest and opens its text console (DOMAIN_OPEN_CONSOLE with the
// console's alias); a screenshot of the console window is taken
// (docs/virt-manager-console.png is one).
func TestServeVirtManager(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	requireTool(t, "xvfb-run")
	requireTool(t, "virt-manager")
	name := h.uniqueName("it-rpcvm")
	xml, _ := h.busybox(name, false)
	d.mustVirsh("create", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	dir := t.TempDir()
	shot, flag, log := filepath.Join(dir, "shot.png"), filepath.Join(dir, "shoot"), filepath.Join(dir, "virt-manager.log")
	if err := os.WriteFile(filepath.Join(dir, "shot.py"), []byte(screenshotPy), 0o644); err != nil {
		t.Fatal(err)
	}
	// Inside the X session: virt-manager, then the screenshot once the test
	// says so (the flag file), then the end of the session.
	script := "virt-manager --no-fork --debug --connect '" + d.uri(d.rw) + "' --show-domain-console " + name + " >" + log + " 2>&1 & vm=$!; " +
		"while [ ! -e " + flag + " ]; do sleep 0.1; done; /usr/bin/python3 " + dir + "/shot.py " + shot + "; kill $vm; wait $vm"
	cmd, out := startTool(t, nil, "env", "GSETTINGS_BACKEND=memory", "NO_AT_BRIDGE=1", "HOME="+dir,
		"xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "sh", "-c", script)
	readLog := func() string { b, _ := os.ReadFile(log); return string(b) }
	testutil.WaitFor(t, 90*time.Second, "virt-manager to open the console stream", func() bool {
		return strings.Contains(readLog(), "Opening console stream") && strings.Contains(readLog(), "alias=console0")
	})
	// The console window shows the guest's scrollback once the stream
	// runs: the daemon has a console client for the guest.
	testutil.WaitFor(t, 30*time.Second, "the console stream to reach the guest's multiplexer", func() bool {
		return strings.Contains(h.must("status", name).stdout, "Console:     console0, 1 client(s)")
	})
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the X session did not end:\n%s", out.String())
	}
	fi, err := os.Stat(shot)
	if err != nil || fi.Size() < 1000 {
		t.Fatalf("no screenshot (%v):\n%s\n%s", err, out.String(), tail(readLog()))
	}
	if l := readLog(); strings.Contains(l, "Traceback") && !strings.Contains(l, "Could not define storage pool") {
		t.Errorf("virt-manager raised:\n%s", tail(l))
	}
	t.Logf("screenshot: %s (%d bytes)", shot, fi.Size())
	d.mustVirsh("destroy", name)
}
