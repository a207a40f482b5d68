//go:build integration

package integration

import (
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeVirtInstall: virt-install's container path (--filesystem
// DIR,/ --init /sbin/init --noautoconsole) creates a guest that boots and
// is persistent (CREATE_XML, then DEFINE_XML of the running guest), with
// --network none and with its default, a managed network named default.
func TestServeVirtInstall(t *testing.T) {
	for _, withNet := range []bool{false, true} {
		// No "=" in the subtest's name: it is in the temp paths, and
		// virt-install's option parser splits --filesystem on it.
		sub := "no-network"
		if withNet {
			sub = "network-default"
		}
		t.Run(sub, func(t *testing.T) {
			h := newHarness(t)
			d := h.serve()
			name := h.uniqueName("it-rpcvi")
			rootfs := filepath.Join(t.TempDir(), name)
			h.must("template", "busybox", rootfs, "--name", name, "--no-idmap")
			args := []string{"--connect", d.uri(d.rw), "--name", name, "--memory", "128",
				"--filesystem", rootfs + ",/", "--init", "/sbin/init", "--noautoconsole"}
			if withNet {
				// virt-install picks network "default"; under the test's
				// own root that name is the test's, on its own bridge.
				bridge := fmt.Sprintf("vmlbr-v%04x", rand.IntN(0xffff))
				subnet := fmt.Sprintf("198.18.%d", 100+rand.IntN(150))
				netXML := h.writeXML("default", fmt.Sprintf(`<network><name>default</name><bridge name='%s'/>
  <ip address='%s.1' prefix='24'><dhcp><range start='%s.100' end='%s.150'/></dhcp></ip></network>`, bridge, subnet, subnet, subnet))
				h.must("net-define", netXML)
				h.must("net-start", "default")
				t.Cleanup(func() {
					h.run("destroy", name)
					h.run("net-destroy", "default")
					if _, err := net.InterfaceByName(bridge); err == nil {
						t.Errorf("bridge %s still exists after net-destroy", bridge)
					}
				})
			} else {
				args = append(args, "--network", "none")
			}
			r := runTool(t, nil, "virt-install", args...)
			if r.code != 0 {
				t.Fatalf("virt-install: %v\ndaemon:\n%s", r, tail(d.log.String()))
			}
			h.waitConsole(name, "vmlite-guest: BOOTED "+name)
			info := d.mustVirsh("dominfo", name).stdout
			if !strings.Contains(info, "State:          running") || !strings.Contains(info, "Persistent:     yes") {
				t.Errorf("dominfo after virt-install:\n%s", info)
			}
			if withNet {
				x := d.mustVirsh("dumpxml", name).stdout
				if !strings.Contains(x, "<source network=\"default\"") && !strings.Contains(x, "<source network='default'") || !strings.Contains(x, "<mac address=") {
					t.Errorf("dumpxml lacks the default network or a MAC:\n%s", x)
				}
				if r := h.must("exec", name, "--", "ip", "-4", "addr", "show", "eth0"); !strings.Contains(r.stdout, "inet 198.18.") {
					t.Errorf("guest has no address on default:\n%s", r.stdout)
				}
			}
			d.mustVirsh("destroy", name)
			d.mustVirsh("undefine", name)
		})
	}
}
