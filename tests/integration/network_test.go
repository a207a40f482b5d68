//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// TestManagedNetwork: two busybox guests on one managed (isolated) network
// get addresses from it, reach each other and the bridge, serve TCP to each
// other and to the host; afterwards nothing of the network is left.
// Traffic stays among the host, the test's bridge and its guests.
func TestManagedNetwork(t *testing.T) {
	h := newHarness(t)
	netName := h.uniqueName("itnet")
	bridge := fmt.Sprintf("vmlbr-t%04x", rand.IntN(0xffff))
	third := 100 + rand.IntN(150)
	subnet := fmt.Sprintf("198.18.%d", third)
	netXML := h.writeXML(netName, fmt.Sprintf(`<network><name>%s</name><bridge name='%s'/>
  <ip address='%s.1' prefix='24'><dhcp><range start='%s.100' end='%s.150'/></dhcp></ip></network>`,
		netName, bridge, subnet, subnet, subnet))
	h.must("net-define", netXML)
	h.must("net-start", netName)
	t.Cleanup(func() {
		h.run("net-destroy", netName)
		if _, err := net.InterfaceByName(bridge); err == nil {
			t.Errorf("bridge %s still exists after net-destroy", bridge)
		}
	})

	var guests [2]string
	for i := range guests {
		name := h.uniqueName(fmt.Sprintf("it-net%d", i))
		xmlPath, rootfs := h.busybox(name, i == 1)
		b, err := os.ReadFile(xmlPath)
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.Replace(string(b), "<console", "<interface type='network'><source network='"+netName+"'/></interface>\n    <console", 1)
		if err := os.WriteFile(xmlPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		// A page for busybox httpd to serve.
		if err := os.MkdirAll(rootfs+"/www", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(rootfs+"/www/index.html", []byte("hello from "+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		h.must("start", xmlPath)
		guests[i] = name
	}
	addr := func(name string) string {
		var r struct {
			Addresses []struct{ Name, Family, CIDR string } `json:"addresses"`
		}
		out := h.must("status", name, "--json").stdout
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		for _, a := range r.Addresses {
			if a.Name == "eth0" && strings.HasPrefix(a.CIDR, subnet+".") {
				return strings.SplitN(a.CIDR, "/", 2)[0]
			}
		}
		t.Fatalf("guest %s has no address on %s.0/24: %s", name, subnet, out)
		return ""
	}
	a0, a1 := addr(guests[0]), addr(guests[1])
	if a0 == a1 {
		t.Fatalf("both guests got %s", a0)
	}
	h.must("exec", guests[1], "--", "ping", "-c", "1", "-W", "5", a0)
	h.must("exec", guests[0], "--", "ping", "-c", "1", "-W", "5", a1)
	h.must("exec", guests[0], "--", "ping", "-c", "1", "-W", "5", subnet+".1")

	// TCP: busybox httpd in guest 0, fetched from guest 1 and from the host.
	h.must("exec", guests[0], "--", "httpd", "-p", "8080", "-h", "/www")
	var body string
	testutil.WaitFor(t, 30*time.Second, "httpd in guest 0 answering guest 1", func() bool {
		// busybox-static's wget crashes in static glibc's resolver; nc does not.
		r := h.run("exec", guests[1], "--", "sh", "-c", `printf "GET /index.html HTTP/1.0\r\n\r\n" | nc -w 3 `+a0+" 8080")
		body = r.stdout
		return r.code == 0
	})
	if !strings.Contains(body, "hello from "+guests[0]) {
		t.Errorf("guest 1 fetched %q", body)
	}
	conn, err := net.DialTimeout("tcp", a0+":8080", 5*time.Second)
	if err != nil {
		t.Fatalf("host to guest TCP: %v", err)
	}
	fmt.Fprintf(conn, "GET /index.html HTTP/1.0\r\n\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, _ := io.ReadAll(conn)
	conn.Close()
	if !strings.Contains(string(resp), "hello from "+guests[0]) {
		t.Errorf("host fetched %q", resp)
	}
	// domifaddr agrees.
	if out := h.must("domifaddr", guests[0]).stdout; !strings.Contains(out, a0) {
		t.Errorf("domifaddr lacks %s:\n%s", a0, out)
	}

	hostLinks := func() string {
		out, _ := exec.Command("ip", "-o", "link", "show", "master", bridge).CombinedOutput()
		return string(out)
	}
	for _, g := range guests {
		h.must("destroy", g)
		h.assertGone(g)
	}
	if l := strings.TrimSpace(hostLinks()); l != "" {
		t.Errorf("links still on the bridge after destroy: %s", l)
	}
}
