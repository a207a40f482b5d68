//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serveScript is a libvirt-python client doing what scripts do: open,
// listAllDomains, lookupByName, createXML, XMLDesc, info, destroy, a
// lookup miss (code 42), and an event loop that must see the transient
// guest's start and stop. It prints one line per check.
const serveScript = `
import sys, threading, libvirt
uri, xmlpath, name = sys.argv[1], sys.argv[2], sys.argv[3]
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(uri)
print("type", conn.getType(), "libver", conn.getLibVersion())
seen = []
done = threading.Event()
def cb(c, dom, event, detail, opaque):
    seen.append((dom.name(), event, detail))
    if dom.name() == name and event == libvirt.VIR_DOMAIN_EVENT_STOPPED:
        done.set()
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
def loop():
    while not done.is_set():
        libvirt.virEventRunDefaultImpl()
t = threading.Thread(target=loop, daemon=True)
t.start()
try:
    conn.lookupByName("nosuch-" + name)
    print("lookup-miss no error")
except libvirt.libvirtError as e:
    print("lookup-miss code", e.get_error_code())
dom = conn.createXML(open(xmlpath).read(), 0)
print("created", dom.name(), "id", dom.ID(), "active", dom.isActive())
names = [d.name() for d in conn.listAllDomains()]
print("listed", name in names)
d2 = conn.lookupByName(name)
print("uuid-match", d2.UUIDString() == dom.UUIDString())
print("xml-has-name", ("<name>%s</name>" % name) in d2.XMLDesc(0))
state, maxmem, mem, ncpu, cputime = d2.info()
print("info state", state, "maxmem", maxmem > 0, "ncpu", ncpu)
d2.destroy()
if not done.wait(60):
    print("events timeout", seen)
else:
    evs = [(e, d) for (n, e, d) in seen if n == name]
    print("event started", (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED) in evs)
    print("event stopped", (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED) in evs)
conn.close()
`

// TestServePython drives vmlite serve with Debian's libvirt-python
// (/usr/bin/python3: a python3 earlier on PATH may lack the module).
func TestServePython(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	if _, err := os.Stat("/usr/lib/python3/dist-packages/libvirt.py"); err != nil {
		t.Fatalf("python3-libvirt is not installed (scripts/install-deps.sh installs it): %v", err)
	}
	name := h.uniqueName("it-rpcpy")
	xml, _ := h.busybox(name, false)
	script := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(script, []byte(serveScript), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runTool(t, nil, "/usr/bin/python3", script, d.uri(d.rw), xml, name)
	if r.code != 0 {
		t.Fatalf("python client: %v\ndaemon:\n%s", r, tail(d.log.String()))
	}
	for _, want := range []string{
		"type LXC libver 9000000",
		"lookup-miss code 42",
		"created " + name,
		"active 1",
		"listed True",
		"uuid-match True",
		"xml-has-name True",
		"info state 1 maxmem True ncpu 1",
		"event started True",
		"event stopped True",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("python client output lacks %q:\n%s", want, r.stdout)
		}
	}
}
