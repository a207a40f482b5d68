package domain

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"vmlite/plan"
)

// semantic runs the checks that span several elements: required values per
// type, uniqueness, ranges that must fit together. It reads the node tree
// (which has lines) and skips whatever was already reported as unsupported.
// It is pure: nothing on the host is looked at.
func (c *checker) semantic(root *node) {
	c.memory(root)
	c.idmap(root)
	c.initUser(root)
	c.sharedNamespaces(root)
	c.clockTimers(root)
	if devs := root.child("devices"); devs != nil && !c.skip(devs) {
		c.filesystems(devs)
		c.interfaces(devs)
		c.hostdevs(devs)
		c.consoles(devs)
	}
}

// skip reports whether n or an ancestor was rejected.
func (c *checker) skip(n *node) bool {
	for m := n; m != nil; m = m.parent {
		if c.rejected[m] {
			return true
		}
	}
	return false
}

// sizeOf returns the size in bytes of a memory element; ok is false when
// the element is absent or was already reported as malformed.
func (c *checker) sizeOf(n *node, unitAttr string) (uint64, bool) {
	if n == nil {
		return 0, false
	}
	v, err := strconv.ParseUint(n.trimmedText(), 10, 64)
	if err != nil {
		return 0, false
	}
	unit, _ := n.attr(unitAttr)
	if isUnit(unit) != nil && unit != "" {
		return 0, false
	}
	b, err := ScaledBytes(v, unit)
	if err != nil {
		c.errorf(n.line, n.path, n.trimmedText()+" "+unit, "use a smaller value", "size is too large")
		return 0, false
	}
	return b, true
}

func (c *checker) memory(root *node) {
	mem, memOK := c.sizeOf(root.child("memory"), "unit")
	if memOK && mem == 0 {
		m := root.child("memory")
		c.errorf(m.line, m.path, "0", "leave <memory> out for no limit", "memory must be greater than 0")
	}
	if cur, ok := c.sizeOf(root.child("currentMemory"), "unit"); ok {
		m := root.child("currentMemory")
		if cur == 0 {
			c.errorf(m.line, m.path, "0", "leave <currentMemory> out", "currentMemory must be greater than 0")
		} else if memOK && cur > mem {
			c.errorf(m.line, m.path, "", "make it at most <memory> or leave it out", "currentMemory (%d bytes) is larger than memory (%d bytes)", cur, mem)
		}
	}
	mt := root.child("memtune")
	if mt == nil || c.skip(mt) {
		return
	}
	hard, hardOK := c.sizeOf(mt.child("hard_limit"), "unit")
	soft, softOK := c.sizeOf(mt.child("soft_limit"), "unit")
	swap, swapOK := c.sizeOf(mt.child("swap_hard_limit"), "unit")
	if hardOK && softOK && soft > hard {
		s := mt.child("soft_limit")
		c.errorf(s.line, s.path, "", "make soft_limit at most hard_limit", "soft_limit (%d bytes) is larger than hard_limit (%d bytes)", soft, hard)
	}
	if hardOK && swapOK && swap < hard {
		s := mt.child("swap_hard_limit")
		c.errorf(s.line, s.path, "", "swap_hard_limit limits memory plus swap: make it at least hard_limit", "swap_hard_limit (%d bytes) is smaller than hard_limit (%d bytes)", swap, hard)
	}
}

// initUser: libvirt's schema wants <inituser> and <initgroup> together.
func (c *checker) initUser(root *node) {
	os := root.child("os")
	if os == nil || c.skip(os) {
		return
	}
	u, g := os.child("inituser"), os.child("initgroup")
	switch {
	case u != nil && g == nil:
		c.errorf(u.line, os.path+"/initgroup", "", "add <initgroup>0</initgroup> (or the user's group)", "<inituser> needs an <initgroup> as well")
	case g != nil && u == nil:
		c.errorf(g.line, os.path+"/inituser", "", "add <inituser>0</inituser> (or the user to run as)", "<initgroup> needs an <inituser> as well")
	}
}

// SystemIDLimit is where Debian's (and most distributions') regular user
// ids begin (adduser.conf FIRST_UID): host ids below it belong to the
// system's daemons, and a guest mapped onto them shares their files.
const SystemIDLimit = 1000

func (c *checker) idmap(root *node) {
	im := root.child("idmap")
	if im == nil || c.skip(im) {
		return
	}
	if len(im.all("uid")) == 0 {
		c.errorf(im.line, im.path+"/uid", "", "add <uid start='0' target='100000' count='65536'/>", "an idmap needs at least one uid range")
	}
	if len(im.all("gid")) == 0 {
		c.errorf(im.line, im.path+"/gid", "", "add <gid start='0' target='100000' count='65536'/>", "an idmap needs at least one gid range")
	}
	c.idRanges(im, "uid")
	c.idRanges(im, "gid")
}

// idRanges checks the <uid> or <gid> ranges of im by the rules the plan's
// check at start applies too (plan.CheckIDRanges), each problem reported
// at its element; ranges on system ids are warned about.
func (c *checker) idRanges(im *node, kind string) {
	var rs []plan.IDRange
	var ns []*node
	for _, n := range im.all(kind) {
		var v [3]uint64
		ok := true
		for i, name := range []string{"start", "target", "count"} {
			s, _ := n.attr(name)
			var err error
			if v[i], err = strconv.ParseUint(s, 10, 32); err != nil {
				ok = false // already reported by the attribute checks
				break
			}
		}
		if ok {
			rs = append(rs, plan.IDRange{Start: uint32(v[0]), Target: uint32(v[1]), Count: uint32(v[2])})
			ns = append(ns, n)
		}
	}
	bad := make([]bool, len(rs))
	for _, p := range plan.CheckIDRanges(rs) {
		if p.Kind == plan.IDTooMany {
			c.errorf(im.line, im.path, "", "", "at most %d %s ranges are allowed (kernel limit)", plan.MaxIDRanges, kind)
			continue
		}
		n, r := ns[p.Index], rs[p.Index]
		switch p.Kind {
		case plan.IDZeroCount:
			c.errorf(n.attrLine("count"), attrPath(n, "count"), "0", "", "count must be at least 1")
			bad[p.Index] = true
		case plan.IDPastEnd:
			c.errorf(n.line, n.path, "", "", "range goes past id 4294967295")
			bad[p.Index] = true
		case plan.IDHostRoot:
			tv, _ := n.attr("target")
			c.errorf(n.attrLine("target"), attrPath(n, "target"), tv, "map to host ids no user has (`vmlite template busybox --idmap-auto DIR` picks a free range), or leave <idmap> out",
				"the range maps host %s 0, the host's root, into the guest", kind)
			bad[p.Index] = true
		case plan.IDFirstNotRoot:
			c.errorf(n.attrLine("start"), attrPath(n, "start"), strconv.FormatUint(uint64(r.Start), 10), "start the first range at 0", "the first %s range must map the guest's root (start='0')", kind)
		case plan.IDGuestOverlap:
			c.errorf(n.line, n.path, "", "", "guest %ss %d-%d overlap the range at line %d", kind, r.Start, uint64(r.Start)+uint64(r.Count)-1, ns[p.Other].line)
		case plan.IDHostOverlap:
			c.errorf(n.line, n.path, "", "", "host %ss %d-%d overlap the range at line %d", kind, r.Target, uint64(r.Target)+uint64(r.Count)-1, ns[p.Other].line)
		}
	}
	for i, r := range rs {
		if !bad[i] && r.Target < SystemIDLimit {
			n := ns[i]
			c.warnf(n.attrLine("target"), attrPath(n, "target"), "host %ss %d-%d are system ids (below %d): the guest shares them with host daemons' files; use a range above every user's (/etc/subuid)",
				kind, r.Target, min(uint64(r.Target)+uint64(r.Count), SystemIDLimit)-1, SystemIDLimit)
		}
	}
}

func (c *checker) filesystems(devs *node) {
	targets := map[string]int{}
	for _, fs := range devs.all("filesystem") {
		if c.skip(fs) {
			continue
		}
		typ, ok := fs.attr("type")
		if !ok {
			typ = "mount"
		}
		src := fs.child("source")
		want := map[string][]string{"mount": {"dir"}, "bind": {"dir"}, "block": {"dev"}, "file": {"file"}, "ram": {"usage", "units"}, "template": {"name"}}[typ]
		c.fsDriver(fs, typ)
		if src != nil && want != nil {
			c.onlyAttrs(src, fsSourceSpec(), typ, want, want[0])
			if typ == "ram" {
				if u, ok := src.attr("usage"); ok {
					unit, _ := src.attr("units")
					if v, err := strconv.ParseUint(u, 10, 64); err == nil && (unit == "" || isUnit(unit) == nil) {
						if _, err := ScaledBytes(v, unit); err != nil {
							c.errorf(src.attrLine("usage"), attrPath(src, "usage"), u, "use a smaller size", "tmpfs size is too large")
						}
					}
				}
			}
		}
		if t := fs.child("target"); t != nil && typ == "template" {
			if dir, _ := t.attr("dir"); dir != "" && strings.TrimRight(dir, "/") != "" {
				c.errorf(t.attrLine("dir"), attrPath(t, "dir"), dir, "use target dir='/' (an image is a whole root filesystem), or type='mount' for a directory",
					"a type='template' filesystem is the guest's root")
			}
		}
		if t := fs.child("target"); t != nil {
			dir, _ := t.attr("dir")
			if dir != "" {
				clean := strings.TrimRight(dir, "/")
				if clean == "" {
					clean = "/"
				}
				if first, dup := targets[clean]; dup {
					c.errorf(t.attrLine("dir"), attrPath(t, "dir"), dir, "give each filesystem its own target", "two filesystems have the same target (the other is at line %d)", first)
				} else {
					targets[clean] = t.line
				}
			}
		}
	}
}

// fsDriver checks <driver> against the filesystem's type, as libvirt's
// LXC controller does: loop (the default for a file) takes raw images
// only, nbd needs an explicit format, and neither applies to a directory.
func (c *checker) fsDriver(fs *node, typ string) {
	drv := fs.child("driver")
	if drv == nil {
		return
	}
	dt, _ := drv.attr("type")
	format, hasFormat := drv.attr("format")
	switch {
	case typ != "file" && (dt == "loop" || dt == "nbd"):
		c.errorf(drv.attrLine("type"), attrPath(drv, "type"), dt, "use <filesystem type='file'> with <source file='IMAGE'/>", "an image driver needs type='file'")
	case typ == "file" && (dt == "path" || dt == "handle"):
		c.errorf(drv.attrLine("type"), attrPath(drv, "type"), dt, "use type='loop' or type='nbd'", "an image file needs an image driver")
	case typ == "file" && dt == "nbd" && !hasFormat:
		c.errorf(drv.line, attrPath(drv, "format"), "", "add format='qcow2' (or the image's format)", "an nbd image needs an explicit format")
	case typ == "file" && dt != "nbd" && hasFormat && format != "raw":
		c.errorf(drv.attrLine("format"), attrPath(drv, "format"), format, "use format='raw', or driver type='nbd' for other formats", "a loop device takes raw images only")
	}
}

// onlyAttrs checks that src carries only the attributes that type uses
// (among those spec applies), and the one it needs.
func (c *checker) onlyAttrs(src *node, spec *elemSpec, typ string, allowed []string, needed string) {
	for _, a := range src.attrs {
		if a.name.Space != "" || a.prefix != "" {
			continue
		}
		as := findAttr(spec, a.name.Local)
		if as == nil || as.class != Applied || slices.Contains(allowed, a.name.Local) {
			continue
		}
		hint := "remove it"
		if needed != "" {
			hint = fmt.Sprintf("use %s= for type='%s'", needed, typ)
		}
		c.errorf(a.line, attrPath(src, a.name.Local), a.value, hint, "%s= does not apply to type='%s'", a.name.Local, typ)
	}
	if needed == "" {
		return
	}
	if _, ok := src.attr(needed); !ok {
		c.errorf(src.line, attrPath(src, needed), "", "", "type='%s' needs source/@%s", typ, needed)
	}
}

// specAt returns the spec at a path of libvirt element names below <domain>.
func specAt(names ...string) *elemSpec {
	spec := schema()
	for _, n := range names {
		spec = findChild(spec, "", n)
	}
	return spec
}

// Looked up on first use: the schema is built lazily, and every vmlite
// process (supervisor, __init) links this package without validating.
var (
	fsSourceSpec  = sync.OnceValue(func() *elemSpec { return specAt("devices", "filesystem", "source") })
	netSourceSpec = sync.OnceValue(func() *elemSpec { return specAt("devices", "interface", "source") })
)

func (c *checker) interfaces(devs *node) {
	guestNames := map[string]int{}
	hostNames := map[string]int{}
	macs := map[string]int{}
	for i, ifc := range devs.all("interface") {
		if c.skip(ifc) {
			continue
		}
		typ, _ := ifc.attr("type")
		src := ifc.child("source")
		need, known := map[string]string{"network": "network", "bridge": "bridge", "direct": "dev", "ethernet": ""}[typ]
		if !known {
			continue // reported by the attribute check
		}
		// libvirt's live XML of a type='network' interface names the bridge.
		allowed := map[string][]string{"network": {"network", "bridge"}, "bridge": {"bridge"}, "direct": {"dev", "mode"}, "ethernet": nil}[typ]
		switch {
		case src == nil && need != "":
			c.errorf(ifc.line, ifc.path+"/source", "", fmt.Sprintf("add <source %s='...'/>", need), "type='%s' needs <source %s='...'/>", typ, need)
		case src != nil:
			c.onlyAttrs(src, netSourceSpec(), typ, allowed, need)
			if _, ok := src.attr("bridge"); ok && typ == "network" {
				c.warnf(src.attrLine("bridge"), attrPath(src, "bridge"), "ignored: %s (vmlite takes the bridge from the network)", liveOnly)
			}
			if typ != "ethernet" {
				for _, ip := range src.all("ip") {
					c.errorf(ip.line, ip.path, "", "move it to the interface as <ip>, or use type='ethernet'", "host-side addresses only apply to type='ethernet'")
				}
			}
		}
		for _, ip := range append(ifc.all("ip"), srcIPs(src)...) {
			c.ipAddr(ip)
		}
		for _, r := range ifc.all("route") {
			c.route(r)
		}
		guest := fmt.Sprintf("eth%d", i)
		if g := ifc.child("guest"); g != nil {
			if d, ok := g.attr("dev"); ok {
				guest = d
			}
			if first, dup := guestNames[guest]; dup {
				c.errorf(g.attrLine("dev"), attrPath(g, "dev"), guest, "give each interface its own <guest dev='...'/>", "two interfaces have the same guest device name (the other is at line %d)", first)
			}
			guestNames[guest] = g.line
		} else if _, dup := guestNames[guest]; !dup {
			guestNames[guest] = ifc.line
		}
		if t := ifc.child("target"); t != nil {
			if d, ok := t.attr("dev"); ok {
				if first, dup := hostNames[d]; dup {
					c.errorf(t.attrLine("dev"), attrPath(t, "dev"), d, "give each interface its own <target dev='...'/>", "two interfaces have the same host device name (the other is at line %d)", first)
				}
				hostNames[d] = t.line
			}
		}
		if m := ifc.child("mac"); m != nil {
			if a, ok := m.attr("address"); ok && isMAC(a) == nil {
				key := NormalizeMAC(a)
				if first, dup := macs[key]; dup {
					c.errorf(m.attrLine("address"), attrPath(m, "address"), a, "leave <mac> out to get a generated one", "two interfaces have the same MAC address (the other is at line %d)", first)
				}
				macs[key] = m.line
			}
		}
	}
}

func srcIPs(src *node) []*node {
	if src == nil {
		return nil
	}
	return src.all("ip")
}

// ipAddr checks that family and prefix fit the address.
func (c *checker) ipAddr(ip *node) {
	a, _ := ip.attr("address")
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return // reported by the attribute check
	}
	c.family(ip, addr)
	if p, ok := ip.attr("prefix"); ok {
		if v, err := strconv.Atoi(p); err == nil && v > addr.BitLen() {
			c.errorf(ip.attrLine("prefix"), attrPath(ip, "prefix"), p, "", "prefix of an IPv%d address must be at most %d", map[int]int{32: 4, 128: 6}[addr.BitLen()], addr.BitLen())
		}
	}
}

func (c *checker) family(n *node, addr netip.Addr) {
	f, ok := n.attr("family")
	if !ok {
		return
	}
	if (f == "ipv4") != addr.Is4() {
		c.errorf(n.attrLine("family"), attrPath(n, "family"), f, "fix the family or leave it out", "family does not match the address %s", addr)
	}
}

func (c *checker) route(r *node) {
	gw, _ := r.attr("gateway")
	g, err := netip.ParseAddr(gw)
	if err != nil {
		return
	}
	c.family(r, g)
	if a, ok := r.attr("address"); ok {
		if addr, err := netip.ParseAddr(a); err == nil {
			if addr.Is4() != g.Is4() {
				c.errorf(r.attrLine("gateway"), attrPath(r, "gateway"), gw, "", "gateway and address are of different IP families")
			}
			if p, ok := r.attr("prefix"); ok {
				if v, err := strconv.Atoi(p); err == nil && v > addr.BitLen() {
					c.errorf(r.attrLine("prefix"), attrPath(r, "prefix"), p, "", "prefix must be at most %d", addr.BitLen())
				}
			}
		}
	}
}

func (c *checker) hostdevs(devs *node) {
	for _, hd := range devs.all("hostdev") {
		if c.skip(hd) {
			continue
		}
		typ, _ := hd.attr("type")
		if typ != "net" {
			for _, n := range append(hd.all("ip"), hd.all("route")...) {
				c.errorf(n.line, n.path, "", "remove it, or use type='net'", "<%s> applies to a type='net' hostdev only", n.name.Local)
			}
		}
		mode, _ := hd.attr("mode")
		if typ == "usb" {
			c.usbHostdev(hd, mode)
			continue
		}
		want := map[string]string{"storage": "block", "misc": "char", "net": "interface"}[typ]
		if want == "" {
			continue
		}
		if mode == "subsystem" {
			c.errorf(hd.line, hd.path+"/@mode", mode, "use mode='capabilities'", "type='%s' is a mode='capabilities' hostdev", typ)
		}
		if src := hd.child("source"); src != nil {
			for _, k := range []string{"vendor", "product", "address"} {
				if n := src.child(k); n != nil {
					c.errorf(n.line, n.path, "", "remove it", "<%s> applies to a type='usb' hostdev only", k)
				}
			}
		}
		src := hd.child("source")
		if src == nil {
			c.errorf(hd.line, hd.path+"/source", "", fmt.Sprintf("add <source><%s>/dev/...</%s></source>", want, want), "a hostdev needs a <source>")
			continue
		}
		for _, ch := range src.children {
			if ch.name.Space == "" && ch.name.Local != want && (ch.name.Local == "block" || ch.name.Local == "char" || ch.name.Local == "interface") {
				c.errorf(ch.line, ch.path, "", fmt.Sprintf("use <%s> for type='%s'", want, typ), "<%s> does not apply to type='%s'", ch.name.Local, typ)
			}
		}
		if src.child(want) == nil {
			example := "/dev/..."
			if typ == "net" {
				example = "eth1"
			}
			c.errorf(src.line, src.path+"/"+want, "", "", "type='%s' needs <source><%s>%s</%s></source>", typ, want, example, want)
		}
	}
}

// clockTimers applies libvirt's LXC rule for <clock><timer>
// (virLXCControllerSetupTimers): timers count only with offset='localtime';
// then rtc and hpet are passed and any other present timer is refused.
// With another offset they are ignored, which is said.
func (c *checker) clockTimers(root *node) {
	clock := root.child("clock")
	if clock == nil || c.skip(clock) {
		return
	}
	offset, _ := clock.attr("offset")
	for _, t := range clock.all("timer") {
		name, _ := t.attr("name")
		if present, _ := t.attr("present"); present == "no" {
			continue
		}
		switch {
		case offset != "localtime" && (name == "rtc" || name == "hpet"):
			c.warnf(t.line, t.path, "ignored: libvirt's LXC driver passes /dev/rtc and /dev/hpet only with <clock offset='localtime'>")
		case offset == "localtime" && name != "rtc" && name != "hpet" && name != "":
			c.errorf(t.line, t.path+"/@name", name, "remove it, or set present='no'", "not supported by vmlite: timer %q in a container (libvirt's LXC driver refuses it too: only rtc and hpet)", name)
		}
	}
}

// usbHostdev checks a <hostdev mode='subsystem' type='usb'>: its source names
// the device by vendor and product, or by bus and device address (libvirt
// takes either, or both).
func (c *checker) usbHostdev(hd *node, mode string) {
	if mode != "subsystem" {
		c.errorf(hd.line, hd.path+"/@mode", mode, "use mode='subsystem'", "type='usb' is a mode='subsystem' hostdev")
	}
	src := hd.child("source")
	if src == nil {
		c.errorf(hd.line, hd.path+"/source", "", "add <source><vendor id='0x...'/><product id='0x...'/></source> or <source><address bus='N' device='N'/></source>", "a USB hostdev needs a <source>")
		return
	}
	for _, k := range []string{"block", "char", "interface"} {
		if n := src.child(k); n != nil {
			c.errorf(n.line, n.path, "", "name the device by <vendor>/<product> or <address bus= device=>", "<%s> does not apply to type='usb'", k)
		}
	}
	v, p, a := src.child("vendor"), src.child("product"), src.child("address")
	switch {
	case (v == nil) != (p == nil):
		c.errorf(src.line, src.path, "", "give both <vendor id=...> and <product id=...>", "a USB device is named by its vendor and its product together")
	case v == nil && a == nil:
		c.errorf(src.line, src.path, "", "add <vendor id='0x...'/><product id='0x...'/> (lsusb shows them) or <address bus='N' device='N'/>", "a USB hostdev's source names no device")
	}
}

func (c *checker) consoles(devs *node) {
	ports := map[uint64]int{}
	for _, con := range devs.all("console") {
		if c.skip(con) {
			continue
		}
		t := con.child("target")
		if t == nil {
			continue
		}
		p, ok := t.attr("port")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			continue
		}
		if first, dup := ports[v]; dup {
			c.errorf(t.attrLine("port"), attrPath(t, "port"), p, "give each console its own port", "two consoles have the same port (the other is at line %d)", first)
		}
		ports[v] = t.line
	}
}

// sharedNamespaces checks <lxc:namespace> against what a shared namespace
// leaves possible.
func (c *checker) sharedNamespaces(root *node) {
	var ns *node
	for _, ch := range root.children {
		if ch.name.Space == lxcNS && ch.name.Local == "namespace" {
			ns = ch
		}
	}
	if ns == nil || c.skip(ns) {
		return
	}
	for _, sh := range ns.children {
		if sh.name.Space != lxcNS {
			continue
		}
		typ, _ := sh.attr("type")
		val, _ := sh.attr("value")
		switch {
		case typ == "netns" && sh.name.Local != "sharenet":
			c.errorf(sh.attrLine("type"), attrPath(sh, "type"), typ, "use type='name' or type='pid'", "type='netns' names a network namespace: it applies to sharenet only")
		case typ == "netns" && (strings.ContainsAny(val, "/\x00") || val == "." || val == ".."):
			c.errorf(sh.attrLine("value"), attrPath(sh, "value"), val, "give the name ip netns list shows", "not a network namespace name")
		case typ == "pid":
			if v, err := strconv.ParseUint(val, 10, 31); err != nil || v == 0 {
				c.errorf(sh.attrLine("value"), attrPath(sh, "value"), val, "", "not a process id")
			}
		case typ == "name":
			if err := isDomainName(val); err != nil {
				c.fail(sh.attrLine("value"), attrPath(sh, "value"), val, err)
			}
		}
		if sh.name.Local != "sharenet" {
			continue
		}
		if im := root.child("idmap"); im != nil {
			c.errorf(sh.line, sh.path, "", "remove <idmap>, or drop sharenet", "a guest with <idmap> cannot share a network namespace: its own user namespace does not own it, so it could not mount /sys there")
		}
		if devs := root.child("devices"); devs != nil {
			for _, ifc := range devs.all("interface") {
				c.errorf(ifc.line, ifc.path, "", "remove the <interface>, or drop sharenet", "a guest that shares another's network namespace has no interfaces of its own")
			}
			for _, hd := range devs.all("hostdev") {
				if t, _ := hd.attr("type"); t == "net" {
					c.errorf(hd.line, hd.path, "", "remove the <hostdev>, or drop sharenet", "a guest that shares another's network namespace has no interfaces of its own")
				}
			}
		}
		if f := root.child("features"); f != nil && f.child("privnet") != nil {
			p := f.child("privnet")
			c.errorf(p.line, p.path, "", "remove <privnet/>, or drop sharenet", "<privnet/> asks for a network namespace of its own, sharenet for another's")
		}
	}
}
