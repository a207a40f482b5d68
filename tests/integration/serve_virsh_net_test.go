//go:build integration

package integration

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// TestServeVirshNetworks: virsh's network verbs on a managed network, and
// `virsh net-event` seeing it defined, started, stopped and undefined.
func TestServeVirshNetworks(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("itrpcnet")
	bridge := fmt.Sprintf("vmlbr-n%04x", rand.IntN(0xffff))
	subnet := fmt.Sprintf("198.18.%d", 100+rand.IntN(150))
	netXML := h.writeXML(name, fmt.Sprintf(`<network><name>%s</name><bridge name='%s'/>
  <ip address='%s.1' prefix='24'><dhcp><range start='%s.100' end='%s.150'/></dhcp></ip></network>`, name, bridge, subnet, subnet, subnet))
	t.Cleanup(func() {
		h.run("net-destroy", name)
		if _, err := net.InterfaceByName(bridge); err == nil {
			t.Errorf("bridge %s still exists", bridge)
		}
	})
	_, out := startTool(t, nil, "virsh", "-c", d.uri(d.rw), "net-event", "--event", "lifecycle", "--loop", "--timeout", "120")
	// The first definition's event shows the registration is in place;
	// redefine until it is seen.
	testutil.WaitFor(t, 30*time.Second, "net-event to see the definition", func() bool {
		d.mustVirsh("net-define", netXML)
		return strings.Contains(out.String(), "event 'lifecycle' for network "+name+": Defined")
	})
	if r := d.mustVirsh("net-list", "--all"); !strings.Contains(r.stdout, name) || !strings.Contains(r.stdout, "inactive") {
		t.Errorf("net-list --all:\n%s", r.stdout)
	}
	d.mustVirsh("net-start", name)
	testutil.WaitFor(t, 30*time.Second, "a Started network event", func() bool {
		return strings.Contains(out.String(), "event 'lifecycle' for network "+name+": Started")
	})
	info := d.mustVirsh("net-info", name).stdout
	for _, want := range []string{"Name:           " + name, "Active:         yes", "Persistent:     yes", "Bridge:         " + bridge} {
		if !strings.Contains(info, want) {
			t.Errorf("net-info lacks %q:\n%s", want, info)
		}
	}
	if x := d.mustVirsh("net-dumpxml", name).stdout; !strings.Contains(x, "<name>"+name+"</name>") {
		t.Errorf("net-dumpxml:\n%s", x)
	}
	// A guest's own DHCP client takes a lease, which net-dhcp-leases shows
	// (NETWORK_GET_DHCP_LEASES, from the network's dnsmasq lease file).
	guest := h.uniqueName("it-rpcnetg")
	xmlPath, _ := h.busybox(guest, false)
	b, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(b), "<console", "<interface type='network'><source network='"+name+"'/></interface>\n    <console", 1)
	if err := os.WriteFile(xmlPath, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	d.mustVirsh("create", xmlPath)
	t.Cleanup(func() { h.run("destroy", guest) })
	mac := regexp.MustCompile(`([0-9a-f]{2}:){5}[0-9a-f]{2}`).FindString(d.mustVirsh("domiflist", guest).stdout)
	if mac == "" {
		t.Fatalf("no MAC in virsh domiflist %s", guest)
	}
	if r := d.mustVirsh("net-dhcp-leases", name); strings.Contains(r.stdout, mac) {
		t.Errorf("a lease before the guest asked for one:\n%s", r.stdout)
	}
	h.must("exec", guest, "--", "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t", "5", "-s", "/bin/true")
	var leases string
	testutil.WaitFor(t, 30*time.Second, "the guest's lease in virsh net-dhcp-leases", func() bool {
		leases = d.mustVirsh("net-dhcp-leases", name, "--mac", mac).stdout
		return strings.Contains(leases, mac)
	})
	if !strings.Contains(leases, "ipv4") || !regexp.MustCompile(regexp.QuoteMeta(subnet)+`\.\d+/24`).MatchString(leases) {
		t.Errorf("virsh net-dhcp-leases --mac %s:\n%s", mac, leases)
	}
	if r := d.mustVirsh("net-dhcp-leases", name, "--mac", "52:54:00:00:00:01"); strings.Contains(r.stdout, mac) {
		t.Errorf("net-dhcp-leases --mac of another MAC listed %s:\n%s", mac, r.stdout)
	}
	d.mustVirsh("destroy", guest)

	if r := d.virsh(d.rw, "net-info", "nosuch-"+name); r.code == 0 || !strings.Contains(r.stderr, "failed to get network 'nosuch-"+name+"'") {
		t.Errorf("net-info of a missing network: %v", r)
	}
	d.mustVirsh("net-destroy", name)
	testutil.WaitFor(t, 30*time.Second, "a Stopped network event", func() bool {
		return strings.Contains(out.String(), "event 'lifecycle' for network "+name+": Stopped")
	})
	d.mustVirsh("net-undefine", name)
	testutil.WaitFor(t, 30*time.Second, "an Undefined network event", func() bool {
		return strings.Contains(out.String(), "event 'lifecycle' for network "+name+": Undefined")
	})
}
