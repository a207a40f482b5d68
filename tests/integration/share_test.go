//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// withNamespace adds <lxc:namespace> to a template's domain XML.
func withNamespace(t *testing.T, xmlPath, shares string) string {
	t.Helper()
	b, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "<domain ", `<domain xmlns:lxc="http://libvirt.org/schemas/domain/lxc/1.0" `, 1)
	s = strings.Replace(s, "</domain>", "  <lxc:namespace>\n"+shares+"  </lxc:namespace>\n</domain>", 1)
	if err := os.WriteFile(xmlPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return xmlPath
}

// TestSharedNamespaces: <lxc:namespace> as libvirt's docs write it: a guest
// joins another running guest's network, IPC and UTS namespaces by name, a
// process's by pid and a named netns (ip netns add, made by the test); its
// pid and mount namespaces stay its own; a name that runs nothing is one
// error naming the element.
func TestSharedNamespaces(t *testing.T) {
	h := newHarness(t)
	a := h.uniqueName("it-nsa")
	xa, _ := h.busybox(a, false)
	h.must("start", xa)
	h.waitConsole(a, "vmlite-guest: BOOTED "+a)
	ns := func(guest, kind string) string {
		return strings.TrimSpace(h.must("exec", guest, "--", "readlink", "/proc/self/ns/"+kind).stdout)
	}

	b := h.uniqueName("it-nsb")
	xb, _ := h.busybox(b, false)
	withNamespace(t, xb, fmt.Sprintf("    <lxc:sharenet type='name' value='%s'/>\n    <lxc:shareipc type='name' value='%s'/>\n    <lxc:shareuts type='name' value='%s'/>\n", a, a, a))
	h.must("start", xb)
	h.waitConsole(b, "vmlite-guest: BOOTED ")
	for _, kind := range []string{"net", "ipc", "uts"} {
		if ns(a, kind) != ns(b, kind) {
			t.Errorf("%s namespace not shared: %s vs %s", kind, ns(a, kind), ns(b, kind))
		}
	}
	for _, kind := range []string{"pid", "mnt"} {
		if ns(a, kind) == ns(b, kind) {
			t.Errorf("%s namespace shared: %s", kind, ns(a, kind))
		}
	}
	if got := strings.TrimSpace(h.must("exec", b, "--", "hostname").stdout); got != a {
		t.Errorf("hostname of %s is %q, want the shared %q", b, got, a)
	}

	// By pid: the host pid of a's init.
	c := h.uniqueName("it-nsc")
	xc, _ := h.busybox(c, false)
	withNamespace(t, xc, fmt.Sprintf("    <lxc:sharenet type='pid' value='%d'/>\n", h.status(a).InitPID))
	h.must("start", xc)
	h.waitConsole(c, "vmlite-guest: BOOTED ")
	if ns(a, "net") != ns(c, "net") || ns(a, "uts") == ns(c, "uts") {
		t.Errorf("sharenet by pid: net %s vs %s, uts %s vs %s", ns(a, "net"), ns(c, "net"), ns(a, "uts"), ns(c, "uts"))
	}
	h.must("destroy", c)
	h.assertGone(c)

	// A named network namespace.
	netns := "vmlite-" + strings.TrimPrefix(h.uniqueName("ns"), "ns-")
	if out, err := exec.Command("ip", "netns", "add", netns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	defer exec.Command("ip", "netns", "delete", netns).Run()
	d := h.uniqueName("it-nsd")
	xd, _ := h.busybox(d, false)
	withNamespace(t, xd, fmt.Sprintf("    <lxc:sharenet type='netns' value='%s'/>\n", netns))
	h.must("start", xd)
	h.waitConsole(d, "vmlite-guest: BOOTED ")
	want, err := exec.Command("ip", "netns", "exec", netns, "readlink", "/proc/self/ns/net").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := ns(d, "net"); got != strings.TrimSpace(string(want)) {
		t.Errorf("sharenet netns: %s, want %s", got, want)
	}
	h.must("destroy", d)
	h.assertGone(d)

	h.must("stop", b)
	h.assertGone(b)
	h.must("stop", a)
	h.assertGone(a)

	// A guest that is not running.
	e := h.uniqueName("it-nse")
	xe, _ := h.busybox(e, false)
	withNamespace(t, xe, "    <lxc:sharenet type='name' value='no-such-guest'/>\n")
	r := h.run("start", xe)
	if r.code != 2 || !strings.Contains(r.stderr, "/domain/lxc:namespace/lxc:sharenet/@value") || !strings.Contains(r.stderr, "no running vmlite guest") {
		t.Errorf("sharenet with a guest that does not run: %v", r)
	}
	h.assertGone(e)
}
