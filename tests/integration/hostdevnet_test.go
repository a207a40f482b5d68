//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHostdevNet: <hostdev mode='capabilities' type='net'> as libvirt's LXC
// driver does it: a host NIC (a dummy link the test makes) is moved into
// the guest with its <ip>, and back to the host at stop and at destroy. The
// NIC is a dummy link, or one end of a veth pair where the kernel has no
// dummy driver: either would die with the guest's namespace if not moved
// back.
func TestHostdevNet(t *testing.T) {
	h := newHarness(t)
	nic := "vmd" + strings.TrimPrefix(h.uniqueName("x"), "x-")
	if exec.Command("ip", "link", "add", nic, "type", "dummy").Run() != nil {
		t.Logf("no dummy driver in this kernel: the NIC is one end of a veth pair")
		if out, err := exec.Command("ip", "link", "add", nic, "type", "veth", "peer", "name", nic+"p").CombinedOutput(); err != nil {
			t.Fatalf("ip link add: %v %s", err, out)
		}
	}
	defer exec.Command("ip", "link", "del", nic).Run()
	onHost := func() bool { return exec.Command("ip", "link", "show", nic).Run() == nil }
	for _, how := range []string{"stop", "destroy"} {
		name := h.uniqueName("it-hdnet")
		xml, _ := h.busybox(name, false)
		b, err := os.ReadFile(xml)
		if err != nil {
			t.Fatal(err)
		}
		hd := fmt.Sprintf(`    <hostdev mode='capabilities' type='net'>
      <source><interface>%s</interface></source>
      <ip address='10.213.7.2' prefix='24'/>
      <route gateway='10.213.7.1'/>
    </hostdev>
  </devices>`, nic)
		h.must("start", h.writeXML(name, strings.Replace(string(b), "</devices>", hd, 1)))
		h.waitConsole(name, "vmlite-guest: BOOTED "+name)
		if onHost() {
			t.Errorf("%s is still on the host while the guest runs", nic)
		}
		addr := h.must("exec", name, "--", "ip", "-o", "addr", "show", "dev", nic).stdout
		if !strings.Contains(addr, "10.213.7.2/24") {
			t.Errorf("%s in the guest lacks its address: %q", nic, addr)
		}
		if r := h.must("exec", name, "--", "ip", "route").stdout; !strings.Contains(r, "default via 10.213.7.1") {
			t.Errorf("guest routes: %q", r)
		}
		h.must(how, name)
		h.assertGone(name)
		if !onHost() {
			t.Fatalf("%s did not come back to the host after %s", nic, how)
		}
	}
}
