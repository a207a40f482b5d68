//go:build integration

package integration

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"vmlite/internal/testutil"
)

// TestServeVirshNetCreate: a transient network through the real virsh
// (net-create: NETWORK_CREATE_XML) is listed, shown by net-info as not
// persistent, refused by net-undefine and net-autostart with libvirt's
// messages, announced Started and Stopped (never Defined) by net-event,
// and gone after net-destroy; the vmlite CLI sees the same network.
func TestServeVirshNetCreate(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("itrpctn")
	bridge := fmt.Sprintf("vmlbr-t%04x", rand.IntN(0xffff))
	subnet := fmt.Sprintf("198.18.%d", 100+rand.IntN(150))
	netXML := h.writeXML(name, fmt.Sprintf(`<network><name>%s</name><bridge name='%s'/>
  <ip address='%s.1' prefix='24'><dhcp><range start='%s.100' end='%s.150'/></dhcp></ip></network>`, name, bridge, subnet, subnet, subnet))
	t.Cleanup(func() {
		h.run("net-destroy", name)
		if _, err := net.InterfaceByName(bridge); err == nil {
			t.Errorf("bridge %s still exists", bridge)
		}
	})
	_, events := startTool(t, nil, "virsh", "-c", d.uri(d.rw), "net-event", "--event", "lifecycle", "--loop", "--timeout", "120")
	// net-event is registered once it reports a change; a defined
	// network made and removed for that shows it.
	probe := h.uniqueName("itrpctp")
	probeXML := h.writeXML(probe, fmt.Sprintf(`<network><name>%s</name></network>`, probe))
	testutil.WaitFor(t, 30*time.Second, "net-event to see a definition", func() bool {
		d.mustVirsh("net-define", probeXML)
		return strings.Contains(events.String(), "event 'lifecycle' for network "+probe+": Defined")
	})
	d.mustVirsh("net-undefine", probe)

	if r := d.mustVirsh("net-create", netXML); !strings.Contains(r.stdout, "Network "+name+" created from") {
		t.Errorf("virsh net-create: %v", r)
	}
	testutil.WaitFor(t, 30*time.Second, "a Started event of the transient network", func() bool {
		return strings.Contains(events.String(), "event 'lifecycle' for network "+name+": Started")
	})
	if _, err := net.InterfaceByName(bridge); err != nil {
		t.Errorf("bridge %s of the created network: %v", bridge, err)
	}
	if r := d.mustVirsh("net-list", "--all"); !regexp.MustCompile(`(?m)^ ` + regexp.QuoteMeta(name) + ` +active +no +no\s*$`).MatchString(r.stdout) {
		t.Errorf("virsh net-list --all does not show %s active, transient:\n%s", name, r.stdout)
	}
	if r := d.mustVirsh("net-list", "--transient", "--name"); strings.TrimSpace(r.stdout) != name {
		t.Errorf("virsh net-list --transient --name:\n%s", r.stdout)
	}
	if r := d.mustVirsh("net-list", "--persistent", "--all", "--name"); strings.Contains(r.stdout, name) {
		t.Errorf("virsh net-list --persistent lists the transient network:\n%s", r.stdout)
	}
	info := d.mustVirsh("net-info", name).stdout
	for _, want := range []string{"Name:           " + name, "Active:         yes", "Persistent:     no", "Autostart:      no", "Bridge:         " + bridge} {
		if !strings.Contains(info, want) {
			t.Errorf("net-info lacks %q:\n%s", want, info)
		}
	}
	if x := d.mustVirsh("net-dumpxml", name).stdout; !strings.Contains(x, "<name>"+name+"</name>") || !strings.Contains(x, "<bridge name=\""+bridge+"\"") {
		t.Errorf("net-dumpxml:\n%s", x)
	}
	if r := h.must("net-list", "--transient", "--name"); strings.TrimSpace(r.stdout) != name {
		t.Errorf("vmlite net-list --transient --name:\n%s", r.stdout)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"net-create", netXML}, "is already active"},
		{[]string{"net-undefine", name}, "can't undefine transient network"},
		{[]string{"net-autostart", name}, "cannot set autostart for transient network"},
	} {
		if r := d.virsh(d.rw, c.args...); r.code == 0 || !strings.Contains(r.stderr, "Requested operation is not valid") || !strings.Contains(r.stderr, c.want) {
			t.Errorf("virsh %v: %v, want an operation-invalid error saying %q", c.args, r, c.want)
		}
	}
	d.mustVirsh("net-destroy", name)
	testutil.WaitFor(t, 30*time.Second, "a Stopped event of the transient network", func() bool {
		return strings.Contains(events.String(), "event 'lifecycle' for network "+name+": Stopped")
	})
	if r := d.virsh(d.rw, "net-info", name); r.code == 0 || !strings.Contains(r.stderr, "failed to get network '"+name+"'") {
		t.Errorf("net-info after net-destroy: %v", r)
	}
	if r := d.mustVirsh("net-list", "--all", "--name"); strings.Contains(r.stdout, name) {
		t.Errorf("net-list --all after net-destroy:\n%s", r.stdout)
	}
	if _, err := net.InterfaceByName(bridge); err == nil {
		t.Errorf("bridge %s outlived net-destroy", bridge)
	}
	for _, e := range []string{"Defined", "Undefined"} {
		if strings.Contains(events.String(), "for network "+name+": "+e) {
			t.Errorf("a transient network was %s:\n%s", e, events.String())
		}
	}
	// virsh net-undefine of a running network: it runs on, transient,
	// until net-destroy (Undefined, then Stopped), as with libvirtd.
	d.mustVirsh("net-define", netXML)
	d.mustVirsh("net-start", name)
	// Redefined while it runs: net-dumpxml shows what it runs with,
	// --inactive the next start's.
	b, err := os.ReadFile(netXML)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(netXML, []byte(strings.Replace(string(b), ".150'", ".160'", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	d.mustVirsh("net-define", netXML)
	if x := d.mustVirsh("net-dumpxml", name).stdout; !strings.Contains(x, subnet+".150") {
		t.Errorf("net-dumpxml of the redefined running network, want its running range:\n%s", x)
	}
	if x := d.mustVirsh("net-dumpxml", "--inactive", name).stdout; !strings.Contains(x, subnet+".160") {
		t.Errorf("net-dumpxml --inactive of the redefined running network, want the new range:\n%s", x)
	}
	d.mustVirsh("net-undefine", name)
	testutil.WaitFor(t, 30*time.Second, "an Undefined event of the running network", func() bool {
		return strings.Contains(events.String(), "event 'lifecycle' for network "+name+": Undefined")
	})
	info = d.mustVirsh("net-info", name).stdout
	if !strings.Contains(info, "Active:         yes") || !strings.Contains(info, "Persistent:     no") {
		t.Errorf("net-info of the undefined running network:\n%s", info)
	}
	if _, err := net.InterfaceByName(bridge); err != nil {
		t.Errorf("bridge %s of the undefined running network: %v", bridge, err)
	}
	d.mustVirsh("net-destroy", name)
	if r := d.mustVirsh("net-list", "--all", "--name"); strings.Contains(r.stdout, name) {
		t.Errorf("net-list --all after net-destroy of the undefined network:\n%s", r.stdout)
	}
}

// netCreateScript: libvirt-python's networkCreateXML, then what scripts
// read of the network, its destroy, and the lookup miss after it.
const netCreateScript = `
import sys, libvirt
uri, xmlpath, name = sys.argv[1], sys.argv[2], sys.argv[3]
conn = libvirt.open(uri)
net = conn.networkCreateXML(open(xmlpath).read())
print("created", net.name(), "active", net.isActive(), "persistent", net.isPersistent())
print("listed", name in [n.name() for n in conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_TRANSIENT)])
print("xml-has-name", ("<name>%s</name>" % name) in net.XMLDesc(0))
try:
    net.undefine()
    print("undefine no error")
except libvirt.libvirtError as e:
    print("undefine code", e.get_error_code())
net.destroy()
try:
    conn.networkLookupByName(name)
    print("lookup after destroy no error")
except libvirt.libvirtError as e:
    print("lookup after destroy code", e.get_error_code())
conn.close()
`

// TestServePythonNetCreate: libvirt-python's networkCreateXML against
// vmlite serve.
func TestServePythonNetCreate(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	if _, err := os.Stat("/usr/lib/python3/dist-packages/libvirt.py"); err != nil {
		t.Fatalf("python3-libvirt is not installed (scripts/install-deps.sh installs it): %v", err)
	}
	name := h.uniqueName("itrpcpn")
	bridge := fmt.Sprintf("vmlbr-p%04x", rand.IntN(0xffff))
	xml := h.writeXML(name, fmt.Sprintf(`<network><name>%s</name><bridge name='%s'/></network>`, name, bridge))
	t.Cleanup(func() { h.run("net-destroy", name) })
	script := filepath.Join(t.TempDir(), "netcreate.py")
	if err := os.WriteFile(script, []byte(netCreateScript), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runTool(t, nil, "/usr/bin/python3", script, d.uri(d.rw), xml, name)
	if r.code != 0 {
		t.Fatalf("python client: %v\ndaemon:\n%s", r, tail(d.log.String()))
	}
	for _, want := range []string{
		"created " + name + " active 1 persistent 0",
		"listed True",
		"xml-has-name True",
		"undefine code 55", // VIR_ERR_OPERATION_INVALID
		"lookup after destroy code 43",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("python output lacks %q:\n%s", want, r.stdout)
		}
	}
	if _, err := net.InterfaceByName(bridge); err == nil {
		t.Errorf("bridge %s outlived destroy", bridge)
	}
}

// TestServeGoLibvirtNetCreate: go-libvirt's NetworkCreateXML (the
// Terraform provider's and Nova's client library) makes a transient
// network that lists under TRANSIENT, is not persistent, refuses
// undefine with OPERATION_INVALID and is gone after NetworkDestroy.
func TestServeGoLibvirtNetCreate(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	l := goLibvirt(t, d)
	name := h.uniqueName("itrpcgn")
	bridge := fmt.Sprintf("vmlbr-g%04x", rand.IntN(0xffff))
	t.Cleanup(func() { h.run("net-destroy", name) })
	n, err := l.NetworkCreateXML(fmt.Sprintf(`<network><name>%s</name><bridge name='%s'/></network>`, name, bridge))
	if err != nil {
		t.Fatalf("NetworkCreateXML: %v", err)
	}
	if p, err := l.NetworkIsPersistent(n); err != nil || p != 0 {
		t.Errorf("NetworkIsPersistent = %d, %v; want 0", p, err)
	}
	if a, err := l.NetworkIsActive(n); err != nil || a != 1 {
		t.Errorf("NetworkIsActive = %d, %v; want 1", a, err)
	}
	nets, _, err := l.ConnectListAllNetworks(1, libvirt.ConnectListNetworksTransient)
	if err != nil || len(nets) != 1 || nets[0].Name != name {
		t.Errorf("ConnectListAllNetworks(TRANSIENT) = %v, %v", nets, err)
	}
	var le libvirt.Error
	if err := l.NetworkUndefine(n); !errors.As(err, &le) || le.Code != uint32(libvirt.ErrOperationInvalid) {
		t.Errorf("NetworkUndefine of the transient network: %v, want OPERATION_INVALID", err)
	}
	if err := l.NetworkDestroy(n); err != nil {
		t.Fatalf("NetworkDestroy: %v", err)
	}
	if _, err := l.NetworkLookupByName(name); !errors.As(err, &le) || le.Code != uint32(libvirt.ErrNoNetwork) {
		t.Errorf("lookup after destroy: %v, want NO_NETWORK", err)
	}
	if _, err := net.InterfaceByName(bridge); err == nil {
		t.Errorf("bridge %s outlived NetworkDestroy", bridge)
	}
}
