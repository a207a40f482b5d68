//go:build integration

package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// loopDevice attaches a fresh image holding content to a loop device, detached
// again at the end of the test.
func loopDevice(t *testing.T, content string) (dev string, rdev string) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, []byte(content+strings.Repeat("\x00", 1<<20)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).Output()
	if err != nil {
		t.Fatalf("losetup: %v", err)
	}
	dev = strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	return dev, fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
}

// devicesList is the v1 devices.list of guest name's cgroup ("" on a host
// without the v1 devices controller).
func (h *harness) devicesList(name string) string {
	for _, d := range cgroupsOf(h.cgroupLeaf(name)) {
		if b, err := os.ReadFile(filepath.Join(d, "devices.list")); err == nil {
			return string(b)
		}
	}
	return ""
}

// TestAttachDeviceLive: attach-device --live, as libvirt's LXC driver does
// it, on a running guest (mapped and unmapped): a veth on a bridge the test
// makes (pinged across), a loop block device (read in the guest, with its
// rule in the device cgroup), a read-only one (writes fail); detach-device
// removes each again, rule and node; what cannot change live is refused
// and changes nothing. dumpxml shows the live devices.
func TestAttachDeviceLive(t *testing.T) {
	for _, idmap := range []bool{false, true} {
		t.Run(fmt.Sprintf("idmap=%v", idmap), func(t *testing.T) {
			h := newHarness(t)
			name := h.uniqueName("it-attach")
			xml, _ := h.busybox(name, idmap)
			h.must("start", xml)
			h.waitConsole(name, "vmlite-guest: BOOTED "+name)

			// An interface on a bridge of the test's.
			br := fmt.Sprintf("vmlbr-a%04x", rand.IntN(0xffff))
			sub := fmt.Sprintf("10.214.%d", rand.IntN(250)+1)
			for _, c := range [][]string{{"link", "add", br, "type", "bridge"}, {"addr", "add", sub + ".1/24", "dev", br}, {"link", "set", br, "up"}} {
				if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
					t.Fatalf("ip %v: %v %s", c, err, out)
				}
			}
			t.Cleanup(func() { _ = exec.Command("ip", "link", "del", br).Run() })
			ifXML := h.writeXML("if", fmt.Sprintf("<interface type='bridge'>\n  <source bridge='%s'/>\n  <ip address='%s.2' prefix='24'/>\n</interface>\n", br, sub))
			h.must("attach-device", name, ifXML, "--live")
			h.must("exec", name, "--", "ping", "-c", "1", "-W", "5", sub+".1")
			live := h.must("dumpxml", name).stdout
			i := strings.Index(live, "<source bridge=\""+br+"\"")
			if i < 0 {
				t.Fatalf("dumpxml lacks the attached interface:\n%s", live)
			}
			mac := live[:i]
			mac = mac[strings.LastIndex(mac, "<mac address=\"")+len("<mac address=\""):]
			mac = mac[:strings.IndexByte(mac, '"')]
			if out, _ := exec.Command("ip", "-o", "link", "show", "master", br).CombinedOutput(); !strings.Contains(string(out), "vml-") {
				t.Errorf("no host veth on %s: %s", br, out)
			}
			if r := h.run("attach-device", name, ifXML, "--config"); r.code != 2 || !strings.Contains(r.stderr, "transient") {
				t.Errorf("--config on a transient guest: %v", r)
			}

			// A block disk, and a read-only one.
			dev, rdev := loopDevice(t, "vmlite-live-disk")
			diskXML := h.writeXML("disk", fmt.Sprintf("<disk type='block' device='disk'>\n  <source dev='%s'/>\n  <target dev='vdc'/>\n</disk>\n", dev))
			h.must("attach-device", name, diskXML)
			if got := h.must("exec", name, "--", "head", "-c", "16", "/dev/vdc").stdout; got != "vmlite-live-disk" {
				t.Errorf("/dev/vdc reads %q", got)
			}
			list := h.devicesList(name)
			if list != "" && !strings.Contains(list, "b "+rdev+" rwm") {
				t.Errorf("devices.list lacks b %s rwm:\n%s", rdev, list)
			}
			if r := h.run("attach-device", name, diskXML); r.code != 2 || !strings.Contains(r.stderr, "already") {
				t.Errorf("the same disk twice: %v", r)
			}
			roDev, roRdev := loopDevice(t, "vmlite-ro-disk")
			roXML := h.writeXML("ro", fmt.Sprintf("<disk type='block' device='disk'>\n  <source dev='%s'/>\n  <target dev='vdd'/>\n  <readonly/>\n</disk>\n", roDev))
			h.must("attach-device", name, roXML, "--live")
			if got := h.must("exec", name, "--", "head", "-c", "14", "/dev/vdd").stdout; got != "vmlite-ro-disk" {
				t.Errorf("/dev/vdd reads %q", got)
			}
			if r := h.run("exec", name, "--", "sh", "-c", "echo x > /dev/vdd"); r.code == 0 {
				t.Errorf("a write to the read-only disk succeeded: %v", r)
			}
			if list := h.devicesList(name); list != "" && !strings.Contains(list, "b "+roRdev+" rm") {
				t.Errorf("devices.list lacks b %s rm:\n%s", roRdev, list)
			}
			if !strings.Contains(h.must("dumpxml", name).stdout, "<target dev=\"vdc\"") {
				t.Errorf("dumpxml lacks the attached disk")
			}

			// A reboot keeps the live devices (the plan the supervisor boots
			// from has them).
			h.must("reboot", name)
			if got := h.must("exec", name, "--", "head", "-c", "16", "/dev/vdc").stdout; got != "vmlite-live-disk" {
				t.Errorf("/dev/vdc after reboot reads %q", got)
			}
			testutil.WaitFor(t, 30*time.Second, "the attached interface after reboot", func() bool {
				return h.run("exec", name, "--", "ping", "-c", "1", "-W", "2", sub+".1").code == 0
			})

			// A character device at a path whose directory the guest's /dev
			// lacks (as /dev/bus/usb/BBB/DDD of a USB hostdev).
			tunXML := h.writeXML("tun", "<hostdev mode='capabilities' type='misc'><source><char>/dev/net/tun</char></source></hostdev>")
			h.must("attach-device", name, tunXML, "--live")
			if r := h.must("exec", name, "--", "stat", "-c", "%F %t:%T", "/dev/net/tun"); !strings.Contains(r.stdout, "character special file a:c8") {
				t.Errorf("/dev/net/tun in the guest: %v", r)
			}
			if list := h.devicesList(name); list != "" && !strings.Contains(list, "c 10:200 rwm") {
				t.Errorf("devices.list lacks c 10:200 rwm:\n%s", list)
			}
			h.must("detach-device", name, tunXML, "--live")
			if r := h.run("exec", name, "--", "test", "-e", "/dev/net/tun"); r.code == 0 {
				t.Errorf("/dev/net/tun is still in the guest")
			}
			if list := h.devicesList(name); strings.Contains(list, "c 10:200 ") {
				t.Errorf("devices.list still has c 10:200:\n%s", list)
			}

			// What cannot change live, and what is not there.
			fsXML := h.writeXML("fs", "<filesystem type='ram'><source usage='1024'/><target dir='/mnt'/></filesystem>")
			if r := h.run("attach-device", name, fsXML, "--live"); r.code != 2 || !strings.Contains(r.stderr, "cannot be attached") {
				t.Errorf("a filesystem live: %v", r)
			}
			noDisk := h.writeXML("nodisk", "<disk type='block'><source dev='/dev/null'/><target dev='vdz'/></disk>")
			if r := h.run("detach-device", name, noDisk); r.code != 2 || !strings.Contains(r.stderr, "/domain/devices/disk/target/@dev: the guest has no disk with target vdz") {
				t.Errorf("detach of a disk not there: %v", r)
			}

			// Detach undoes each.
			h.must("detach-device", name, diskXML, "--live")
			if r := h.run("exec", name, "--", "test", "-e", "/dev/vdc"); r.code == 0 {
				t.Errorf("/dev/vdc is still in the guest")
			}
			if list := h.devicesList(name); strings.Contains(list, "b "+rdev+" ") {
				t.Errorf("devices.list still has b %s:\n%s", rdev, list)
			}
			h.must("detach-device", name, h.writeXML("rokey", "<disk><target dev='vdd'/></disk>")) // the key is enough, as in libvirt
			if r := h.run("exec", name, "--", "test", "-e", "/dev/vdd"); r.code == 0 {
				t.Errorf("/dev/vdd is still in the guest")
			}
			detach := h.writeXML("ifdel", fmt.Sprintf("<interface type='bridge'><mac address='%s'/><source bridge='%s'/></interface>", mac, br))
			h.must("detach-device", name, detach)
			if out, _ := exec.Command("ip", "-o", "link", "show", "master", br).CombinedOutput(); strings.Contains(string(out), "vml-") {
				t.Errorf("host veth still on %s: %s", br, out)
			}
			if r := h.run("exec", name, "--", "ping", "-c", "1", "-W", "1", sub+".1"); r.code == 0 {
				t.Errorf("ping across a detached interface succeeded")
			}
			if d := h.must("dumpxml", name).stdout; strings.Contains(d, "vdc") || strings.Contains(d, br) {
				t.Errorf("dumpxml still shows detached devices:\n%s", d)
			}
			h.must("destroy", name)
			h.assertGone(name)
		})
	}
}

// TestVirshAttachDevice: the real virsh attaches and detaches a block disk
// of a running guest through vmlite serve (DOMAIN_ATTACH_DEVICE_FLAGS,
// DOMAIN_DETACH_DEVICE_FLAGS, and the calls without flags), and a disk of
// a defined guest's stored definition (--config); libvirt's errors come
// back with their messages.
func TestVirshAttachDevice(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	name := h.uniqueName("it-vattach")
	xml, _ := h.busybox(name, true)
	h.must("define", xml)
	dev, rdev := loopDevice(t, "vmlite-virsh-disk")
	diskXML := h.writeXML("vdisk", fmt.Sprintf("<disk type='block' device='disk'>\n  <source dev='%s'/>\n  <target dev='vde'/>\n</disk>\n", dev))

	// Shut off: --config stores it, a live attach is refused.
	if r := d.virsh(d.rw, "attach-device", name, diskXML); r.code == 0 || !strings.Contains(r.stderr, "is not running") {
		t.Errorf("virsh attach-device (live) on a shut-off guest: %v", r)
	}
	d.mustVirsh("attach-device", name, diskXML, "--config")
	if x := d.mustVirsh("dumpxml", "--inactive", name).stdout; !strings.Contains(x, "<target dev=\"vde\"") {
		t.Errorf("virsh dumpxml --inactive lacks the disk:\n%s", x)
	}
	d.mustVirsh("detach-device", name, diskXML, "--config")
	if x := d.mustVirsh("dumpxml", "--inactive", name).stdout; strings.Contains(x, "vde") {
		t.Errorf("the disk is still defined:\n%s", x)
	}

	// Running: virsh without flags changes the running guest.
	d.mustVirsh("start", name)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	d.mustVirsh("attach-device", name, diskXML)
	if got := h.must("exec", name, "--", "head", "-c", "17", "/dev/vde").stdout; got != "vmlite-virsh-disk" {
		t.Errorf("/dev/vde reads %q", got)
	}
	if r := d.virsh(d.rw, "attach-device", name, diskXML, "--live"); r.code == 0 || !strings.Contains(r.stderr, "already") {
		t.Errorf("the same disk twice through virsh: %v", r)
	}
	d.mustVirsh("detach-device", name, diskXML, "--live")
	if r := h.run("exec", name, "--", "test", "-e", "/dev/vde"); r.code == 0 {
		t.Errorf("/dev/vde is still in the guest")
	}
	if list := h.devicesList(name); strings.Contains(list, "b "+rdev+" ") {
		t.Errorf("devices.list still has b %s:\n%s", rdev, list)
	}

	// virsh's own verbs build the device XML and call the same procedures.
	br := fmt.Sprintf("vmlbr-v%04x", rand.IntN(0xffff))
	if out, err := exec.Command("ip", "link", "add", br, "type", "bridge").CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", br).Run() })
	const mac = "52:54:00:5e:00:42"
	d.mustVirsh("attach-interface", name, "--type", "bridge", "--source", br, "--mac", mac, "--live")
	if r := h.must("exec", name, "--", "ip", "link"); !strings.Contains(r.stdout, mac) {
		t.Errorf("virsh attach-interface: no link with %s in the guest: %v", mac, r)
	}
	d.mustVirsh("detach-interface", name, "--type", "bridge", "--mac", mac, "--live")
	if r := h.must("exec", name, "--", "ip", "link"); strings.Contains(r.stdout, mac) {
		t.Errorf("virsh detach-interface: the link is still in the guest: %v", r)
	}
	// Live and config at once: one MAC in both.
	both := h.writeXML("both", "<interface type='bridge'><source bridge='"+br+"'/></interface>")
	h.must("attach-device", name, both, "--live", "--config")
	macOf := func(x string) string {
		i := strings.Index(x, "<source bridge=\""+br+"\"")
		if i < 0 {
			t.Fatalf("no interface on %s in:\n%s", br, x)
		}
		m := x[:i]
		m = m[strings.LastIndex(m, "<mac address=\"")+len("<mac address=\""):]
		return m[:strings.IndexByte(m, '"')]
	}
	liveMAC, configMAC := macOf(h.must("dumpxml", name).stdout), macOf(h.must("dumpxml", "--inactive", name).stdout)
	if liveMAC != configMAC {
		t.Errorf("attach-device --live --config: MAC %s live, %s stored", liveMAC, configMAC)
	}
	h.must("detach-device", name, h.writeXML("bothdel", "<interface type='bridge'><mac address='"+liveMAC+"'/><source bridge='"+br+"'/></interface>"), "--live", "--config")
	if strings.Contains(h.must("dumpxml", "--inactive", name).stdout, br) || strings.Contains(h.must("dumpxml", name).stdout, br) {
		t.Errorf("the interface is still there after detach-device --live --config")
	}
	d.mustVirsh("attach-disk", name, dev, "vdf", "--live")
	if got := h.must("exec", name, "--", "head", "-c", "17", "/dev/vdf").stdout; got != "vmlite-virsh-disk" {
		t.Errorf("virsh attach-disk: /dev/vdf reads %q", got)
	}
	d.mustVirsh("detach-disk", name, "vdf", "--live")
	if r := h.run("exec", name, "--", "test", "-e", "/dev/vdf"); r.code == 0 {
		t.Errorf("virsh detach-disk: /dev/vdf is still in the guest")
	}
	d.mustVirsh("destroy", name)
	h.assertGone(name)
	h.must("undefine", name)
}

// TestUSBHostdevMissing: a <hostdev mode='subsystem' type='usb'> naming a
// device the host does not have (this machine has no USB bus at all; the
// lookup itself is tested on fake sysfs trees in internal/usbdev and
// launch) fails the start with one error naming the hostdev, leaving
// nothing behind, and is refused by attach-device --live the same way.
func TestUSBHostdevMissing(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-usb")
	xml, _ := h.busybox(name, false)
	b, err := os.ReadFile(xml)
	if err != nil {
		t.Fatal(err)
	}
	usb := "<hostdev mode='subsystem' type='usb'>\n  <source>\n    <vendor id='0xdead'/>\n    <product id='0xbeef'/>\n  </source>\n</hostdev>\n"
	doc := strings.Replace(string(b), "</devices>", usb+"</devices>", 1)
	r := h.run("start", h.writeXML(name, doc))
	if r.code != 2 || !strings.Contains(r.stderr, "/domain/devices/hostdev/source") || !strings.Contains(r.stderr, "no USB device dead:beef on this host") {
		t.Errorf("start with a missing USB device: %v", r)
	}
	h.assertGone(name)

	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	dev := h.writeXML("usb", usb)
	if r := h.run("attach-device", name, dev, "--live"); r.code != 2 || !strings.Contains(r.stderr, "no USB device dead:beef") {
		t.Errorf("attach-device of a missing USB device: %v", r)
	}
	if d := h.must("dumpxml", name).stdout; strings.Contains(d, "<hostdev") {
		t.Errorf("a refused attach changed the live XML:\n%s", d)
	}
	h.must("destroy", name)
	h.assertGone(name)
}

// TestClockTimers: <clock offset='localtime'><timer name='rtc'/> passes the
// host's /dev/rtc0 as the guest's /dev/rtc, read-only, as libvirt's LXC
// driver does; a host without it fails the start naming the timer and
// leaves nothing (this machine has no RTC device: that case is what runs
// here unless it has one). With offset='utc' the timer is ignored, with a
// warning, and the guest boots.
func TestClockTimers(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-clock")
	xml, _ := h.busybox(name, false)
	b, err := os.ReadFile(xml)
	if err != nil {
		t.Fatal(err)
	}
	withClock := func(clock string) string {
		return h.writeXML(name, strings.Replace(string(b), "<devices>", clock+"\n  <devices>", 1))
	}
	r := h.run("start", withClock("<clock offset='localtime'><timer name='rtc'/></clock>"))
	if _, err := os.Stat("/dev/rtc0"); err != nil {
		if r.code != 2 || !strings.Contains(r.stderr, "/domain/clock/timer") || !strings.Contains(r.stderr, "/dev/rtc0") {
			t.Errorf("start with an rtc timer on a host without /dev/rtc0: %v", r)
		}
		h.assertGone(name)
	} else {
		if r.code != 0 {
			t.Fatalf("start with an rtc timer: %v", r)
		}
		h.waitConsole(name, "vmlite-guest: BOOTED "+name)
		if r := h.must("exec", name, "--", "stat", "-c", "%F", "/dev/rtc"); !strings.Contains(r.stdout, "character") {
			t.Errorf("/dev/rtc in the guest: %v", r)
		}
		if r := h.run("exec", name, "--", "sh", "-c", "echo x > /dev/rtc"); r.code == 0 {
			t.Errorf("the guest could open /dev/rtc for writing")
		}
		h.must("destroy", name)
		h.assertGone(name)
	}
	r = h.must("start", withClock("<clock offset='utc'><timer name='rtc'/></clock>"))
	if !strings.Contains(r.stderr, "/domain/clock/timer: ignored: libvirt's LXC driver passes /dev/rtc and /dev/hpet only with <clock offset='localtime'>") {
		t.Errorf("no warning for the ignored timer: %v", r)
	}
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	if r := h.run("exec", name, "--", "test", "-e", "/dev/rtc"); r.code == 0 {
		t.Errorf("/dev/rtc is in a guest with offset='utc'")
	}
	h.must("destroy", name)
	h.assertGone(name)
}

// TestAttachNetworkLive: an <interface type='network'> attached to a
// running guest gets its place on the managed network as at start (the
// network's bridge, the guest's stable address), pings the bridge, and is
// gone after detach-device.
func TestAttachNetworkLive(t *testing.T) {
	h := newHarness(t)
	netName := h.uniqueName("itanet")
	bridge := fmt.Sprintf("vmlbr-n%04x", rand.IntN(0xffff))
	subnet := fmt.Sprintf("198.19.%d", 100+rand.IntN(150))
	h.must("net-define", h.writeXML(netName, fmt.Sprintf(`<network><name>%s</name><bridge name='%s'/>
  <ip address='%s.1' prefix='24'><dhcp><range start='%s.100' end='%s.150'/></dhcp></ip></network>`, netName, bridge, subnet, subnet, subnet)))
	h.must("net-start", netName)
	t.Cleanup(func() { h.run("net-destroy", netName); h.run("net-undefine", netName) })

	name := h.uniqueName("it-anet")
	xml, _ := h.busybox(name, true)
	h.must("start", xml)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	ifXML := h.writeXML("nif", "<interface type='network'><source network='"+netName+"'/></interface>")
	h.must("attach-device", name, ifXML)
	addrs := h.must("exec", name, "--", "ip", "-4", "-o", "addr", "show", "eth0").stdout
	if !strings.Contains(addrs, subnet+".") {
		t.Fatalf("eth0 has no address on %s.0/24: %s", subnet, addrs)
	}
	h.must("exec", name, "--", "ping", "-c", "1", "-W", "5", subnet+".1")
	live := h.must("dumpxml", name).stdout
	i := strings.Index(live, "<source network=\""+netName+"\"")
	if i < 0 {
		t.Fatalf("dumpxml lacks the interface:\n%s", live)
	}
	mac := live[:i]
	mac = mac[strings.LastIndex(mac, "<mac address=\"")+len("<mac address=\""):]
	mac = mac[:strings.IndexByte(mac, '"')]
	h.must("detach-device", name, h.writeXML("ndel", "<interface type='network'><mac address='"+mac+"'/><source network='"+netName+"'/></interface>"))
	if r := h.run("exec", name, "--", "ip", "link", "show", "eth0"); r.code == 0 {
		t.Errorf("eth0 is still in the guest: %v", r)
	}
	if out, _ := exec.Command("ip", "-o", "link", "show", "master", bridge).CombinedOutput(); strings.Contains(string(out), "vml-") {
		t.Errorf("host veth still on %s: %s", bridge, out)
	}
	h.must("destroy", name)
	h.assertGone(name)
}
