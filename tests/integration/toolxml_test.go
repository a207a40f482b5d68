//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// novaXML is shaped like the guest OpenStack Nova writes for virt_type=lxc
// (nova/virt/libvirt/config.py, driver.py): <os><cmdline>, <initenv>,
// <iothreads>, a cpu mode, a usb controller with model none, and the
// console log file Nova reads.
const novaXML = `<domain type="lxc">
  <uuid>%s</uuid>
  <name>%s</name>
  <memory>131072</memory>
  <vcpu>1</vcpu>
  <iothreads>1</iothreads>
  <os>
    <type>exe</type>
    <cmdline>console=tty0 console=ttyS0 console=hvc0</cmdline>
    <init>/sbin/init</init>
    <initenv name="product_name">OpenStack Nova</initenv>
  </os>
  <cputune><shares>1024</shares></cputune>
  <clock offset="utc"/>
  <cpu mode="host-passthrough"/>
  <devices>
    <filesystem type="mount" accessmode="mapped">
      <source dir="%s"/>
      <target dir="/"/>
    </filesystem>
    <console type="pty">
      <log file="%s" append="off"/>
    </console>
    <controller type="usb" model="none"/>
  </devices>
  <idmap>
    <uid start="0" target="100000" count="65536"/>
    <gid start="0" target="100000" count="65536"/>
  </idmap>
</domain>
`

// TestNovaShapedGuest: a Nova-shaped domain boots; init sees
// LIBVIRT_LXC_CMDLINE, LIBVIRT_LXC_NAME and LIBVIRT_LXC_UUID as libvirt
// sets them; the console is written to <log file>, mode 0600, truncated
// (append='off') at start.
func TestNovaShapedGuest(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-nova")
	_, rootfs := h.busybox(name, true)
	logDir := t.TempDir()
	logFile := filepath.Join(logDir, "console.log")
	if err := os.WriteFile(logFile, []byte("stale output of an earlier boot\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const uuid = "0f2a6c4e-59d4-4a0b-bb6e-3b4f8b6d0c21"
	xml := h.writeXML(name, fmt.Sprintf(novaXML, uuid, name, rootfs, logFile))
	r := h.must("start", xml)
	for _, w := range []string{"/domain/iothreads: ignored", "/domain/cpu: ignored", "/domain/devices/controller: ignored", "/domain/devices/filesystem/@accessmode: ignored"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("start does not warn %q:\n%s", w, r.stderr)
		}
	}
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	testutil.WaitFor(t, 30*time.Second, "the boot message in <log file>", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "vmlite-guest: BOOTED "+name)
	})
	b, _ := os.ReadFile(logFile)
	if strings.Contains(string(b), "stale output") {
		t.Errorf("append='off' kept the old content:\n%s", b)
	}
	if st, err := os.Stat(logFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("log file mode: %v %v", st.Mode(), err)
	}
	env := strings.Split(h.must("exec", name, "--", "cat", "/proc/1/environ").stdout, "\x00")
	for _, want := range []string{
		"LIBVIRT_LXC_CMDLINE=console=tty0 console=ttyS0 console=hvc0",
		"LIBVIRT_LXC_NAME=" + name,
		"LIBVIRT_LXC_UUID=" + uuid,
		"product_name=OpenStack Nova",
	} {
		found := false
		for _, e := range env {
			found = found || e == want
		}
		if !found {
			t.Errorf("init's environment lacks %q: %q", want, env)
		}
	}
	h.must("exec", name, "--", "sh", "-c", "echo nova-marker-$((6*7)) > /dev/console")
	testutil.WaitFor(t, 30*time.Second, "guest output in <log file>", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "nova-marker-42")
	})
	// dumpxml of the running guest is libvirt's live XML.
	st := h.status(name)
	dump := h.must("dumpxml", name).stdout
	for _, want := range []string{
		fmt.Sprintf(`<domain type="lxc" id="%d">`, st.InitPID), "<uuid>" + uuid + "</uuid>",
		`<memory unit="KiB">131072</memory>`, `<currentMemory unit="KiB">131072</currentMemory>`,
		`<vcpu placement="static">1</vcpu>`, `<source path="/dev/pts/`, `<target type="lxc" port="0">`, `<alias name="console0">`,
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("dumpxml lacks %s:\n%s", want, dump)
		}
	}
	if r := h.run("dumpxml", "--inactive", name); r.code != 2 || !strings.Contains(r.stderr, "transient") {
		t.Errorf("dumpxml --inactive of a transient guest: %v", r)
	}
	// virsh's words for it, and virsh's way to stop it.
	if got := h.must("domstate", "--reason", name).stdout; got != "running (booted)\n" {
		t.Errorf("domstate --reason: %q", got)
	}
	if got := strings.TrimSpace(h.must("domid", name).stdout); got != fmt.Sprint(st.InitPID) {
		t.Errorf("domid %q, want init's pid %d", got, st.InitPID)
	}
	h.must("shutdown", "--timeout", "20", name)
	h.assertGone(name)
}
