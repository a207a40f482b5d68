package netdef

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/guestnet"
	"vmlite/internal/errdefs"
	"vmlite/internal/lazyre"
	"vmlite/internal/uuid"
	"vmlite/internal/xpath"
	"vmlite/state"
)

// Forward modes of a managed network (<forward mode>).
const (
	ForwardNone  = ""      // isolated: guests and the host only
	ForwardNAT   = "nat"   // masqueraded to the host's address on the way out
	ForwardRoute = "route" // routed as is; the upstream must route back
)

// Network is a managed network: a host bridge with addresses, optionally
// forwarding (nat or route) and a DHCP server, from libvirt network XML.
// It is a value: Parse fills it, Define stores it, Start (Linux) makes it
// real. Its XML is kept normalised (UUID, bridge name and MAC filled in),
// which is what net-dumpxml prints.
type Network struct {
	Name    string
	UUID    string
	Bridge  string
	Forward string
	// MAC is the bridge's own address; fixed so that the bridge keeps one
	// address whatever ports come and go.
	MAC net.HardwareAddr
	MTU int
	IPs []IPConfig
	XML *libvirtxml.Network
	// Transient: made by Create, with no stored definition. Its XML lives
	// in its runtime directory, and it is gone once destroyed (libvirt's
	// transient network, virsh net-create).
	Transient bool

	// layout is where a stored network's files are (set by Load and
	// Define; nil for a network only parsed).
	layout *state.Layout

	// uuidGiven and macGiven say whether the XML had them (Define keeps a
	// redefined network's own when not).
	uuidGiven, macGiven bool
}

// IPConfig is one <ip> of a network: the bridge's address in Net and what
// DHCP serves.
type IPConfig struct {
	// Address is the bridge's address; Net its subnet (Net.IP is the
	// network address).
	Address net.IP
	Net     *net.IPNet
	Ranges  []Range
	Hosts   []DHCPHost
}

// Range is a DHCP range, both ends included.
type Range struct{ Start, End net.IP }

// DHCPHost is a fixed DHCP assignment (<host mac ip name>).
type DHCPHost struct {
	MAC  net.HardwareAddr
	IP   net.IP
	Name string
}

// Prefix is the length of the subnet's prefix.
func (c IPConfig) Prefix() int { n, _ := c.Net.Mask.Size(); return n }

// CIDR is the bridge's address with its prefix: "192.168.122.1/24".
func (c IPConfig) CIDR() string { return fmt.Sprintf("%s/%d", c.Address, c.Prefix()) }

// IPv4 returns the network's IPv4 configuration (the one DHCP and NAT use),
// or nil.
func (n *Network) IPv4() *IPConfig {
	for i := range n.IPs {
		if n.IPs[i].Address.To4() != nil {
			return &n.IPs[i]
		}
	}
	return nil
}

var nameRE = lazyre.New(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,49}$`)

// CheckName checks a network name: it names files, so letters, digits, '_',
// '.', '-', not starting with '.' or '-', at most 50 characters.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: network name %q: use letters, digits, '_', '.', '-' (not first), at most 50", errdefs.ErrInvalid, name)
	}
	return nil
}

// BridgeName is the bridge of a network whose XML names none: "vmlbr-" +
// name ("vmlbr-default"), or, when that is too long or the name has
// characters unfit for an interface name, "vmlbr" + 3 safe characters + "-"
// + a hash of the name ("vmlbrpro-3fa2c1"), like HostLinkName.
func BridgeName(network string) string {
	const prefix = "vmlbr"
	if n := prefix + "-" + network; len(n) <= guestnet.MaxLinkName && guestnet.LinkSafe(network) == network && network != "" {
		return n
	}
	sum := sha256.Sum256([]byte(network))
	safe := guestnet.LinkSafe(network)
	if keep := guestnet.MaxLinkName - len(prefix) - 1 - guestnet.HashLen; len(safe) > keep {
		safe = safe[:keep]
	}
	return prefix + safe + "-" + hex.EncodeToString(sum[:])[:guestnet.HashLen]
}

// Parse reads network XML strictly: elements and attributes vmlite does not
// implement are errors, and every value is checked. All problems come back at
// once as domain.Errors (which wraps errdefs.ErrInvalid). file names the source
// in messages. Missing UUID, bridge name and bridge MAC are filled in.
func Parse(file string, data []byte) (*Network, error) {
	doc, warns, errs := domain.CheckXML(file, data, networkSchema)
	// What the strict engine would accept with a warning in a domain
	// (elements of unknown namespaces) is refused here: nothing in a
	// network is ignored.
	for _, w := range warns {
		errs = append(errs, &domain.FieldError{File: w.File, Line: w.Line, Path: w.Path, Msg: "not supported by vmlite: " + strings.TrimPrefix(w.Msg, "ignored: ")})
	}
	if doc == nil {
		return nil, errs
	}
	var x libvirtxml.Network
	if err := x.Unmarshal(string(bytes.TrimSpace(doc.Data()))); err != nil {
		if len(errs) > 0 {
			return nil, errs // what libvirtxml cannot decode, the schema refused
		}
		return nil, domain.Errors{{File: file, Msg: "read network XML: " + err.Error()}}
	}
	// The values too, so that every problem comes back at once; what the
	// schema reported already is not reported twice.
	v := &validator{doc: doc}
	n := v.network(&x)
	for _, e := range v.errs {
		if !reported(errs, e.Path) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return n, nil
}

// reported says whether errs has an error at path or inside it.
func reported(errs domain.Errors, path string) bool {
	for _, e := range errs {
		if e.Path == path || strings.HasPrefix(path, e.Path+"/") {
			return true
		}
	}
	return false
}

// validator turns libvirtxml values into a Network, collecting errors.
type validator struct {
	doc  *domain.Document
	errs domain.Errors
}

func (v *validator) errorf(path, value, format string, args ...any) {
	v.errs = append(v.errs, v.doc.Errorf(path, value, fmt.Sprintf(format, args...)))
}

func (v *validator) network(x *libvirtxml.Network) *Network {
	n := &Network{XML: x}
	n.Name = x.Name
	if x.Name == "" {
		v.errorf("/network/name", "", "a network needs a <name>")
	} else if CheckName(x.Name) != nil {
		v.errorf("/network/name", x.Name, "use letters, digits, '_', '.', '-' (not first), at most 50 characters")
	}
	n.uuidGiven = x.UUID != ""
	if x.UUID == "" {
		n.UUID = uuid.New()
	} else if c, err := uuid.Canonical(x.UUID); err != nil {
		v.errorf("/network/uuid", x.UUID, "%v", err)
	} else {
		n.UUID = c
	}
	x.UUID = n.UUID

	if x.Bridge == nil {
		x.Bridge = &libvirtxml.NetworkBridge{}
	}
	if x.Bridge.Name == "" && n.Name != "" {
		x.Bridge.Name = BridgeName(n.Name)
	}
	n.Bridge = x.Bridge.Name
	if err := guestnet.ValidLinkName(n.Bridge); err != nil && n.Name != "" {
		v.errorf("/network/bridge/@name", n.Bridge, "not a valid interface name")
	}
	// stp and delay: the schema checked them.

	if x.Forward != nil {
		switch x.Forward.Mode {
		case "", ForwardNAT: // libvirt: <forward/> without a mode is nat
			n.Forward = ForwardNAT
			x.Forward.Mode = ForwardNAT
		case ForwardRoute:
			n.Forward = ForwardRoute
		}
	}

	n.macGiven = x.MAC != nil
	if x.MAC == nil {
		x.MAC = &libvirtxml.NetworkMAC{Address: guestnet.GuestMAC(n.UUID, -1)}
	}
	mac, err := net.ParseMAC(x.MAC.Address)
	if err != nil || len(mac) != 6 || mac[0]&1 != 0 {
		v.errorf("/network/mac/@address", x.MAC.Address, "not a unicast Ethernet address")
	}
	n.MAC = mac
	if x.MTU != nil {
		if x.MTU.Size < 68 || x.MTU.Size > 65535 { // only <mtu/> without a size gets past the schema
			v.errorf("/network/mtu/@size", strconv.FormatUint(uint64(x.MTU.Size), 10), "MTU out of range 68-65535")
		}
		n.MTU = int(x.MTU.Size)
	}

	v4 := 0
	for i := range x.IPs {
		path := xpath.Child("/network", "ip", i, len(x.IPs))
		c, ok := v.ip(path, &x.IPs[i])
		if !ok {
			continue
		}
		for _, o := range n.IPs {
			if o.Net.Contains(c.Net.IP) || c.Net.Contains(o.Net.IP) {
				v.errorf(path, c.Net.String(), "subnet overlaps %s of another <ip>", o.Net)
			}
		}
		if c.Address.To4() != nil {
			if v4++; v4 > 1 {
				v.errorf(path, c.CIDR(), "vmlite supports one IPv4 <ip> per network")
			}
		}
		n.IPs = append(n.IPs, c)
	}
	if n.Forward != ForwardNone && n.IPv4() == nil && len(v.errs) == 0 {
		v.errorf("/network/forward", n.Forward, "forwarding needs an IPv4 <ip>")
	}
	return n
}

func (v *validator) ip(path string, x *libvirtxml.NetworkIP) (IPConfig, bool) {
	var c IPConfig
	n0 := len(v.errs)
	c.Address = net.ParseIP(x.Address)
	if c.Address == nil {
		v.errorf(path+"/@address", x.Address, "not an IP address")
		return c, false
	}
	is4 := c.Address.To4() != nil
	if is4 {
		c.Address = c.Address.To4()
	}
	switch {
	case x.Family == "" || x.Family == "ipv4" && is4 || x.Family == "ipv6" && !is4:
	default:
		v.errorf(path+"/@family", x.Family, "does not match the address %s", x.Address)
	}
	bits := 128
	if is4 {
		bits = 32
	}
	var mask net.IPMask
	switch {
	case x.Netmask != "" && x.Prefix != 0:
		v.errorf(path, "", "give netmask or prefix, not both")
	case x.Netmask != "":
		m := net.ParseIP(x.Netmask).To4()
		if !is4 || m == nil {
			v.errorf(path+"/@netmask", x.Netmask, "not an IPv4 netmask")
			break
		}
		mask = net.IPMask(m)
		if ones, b := mask.Size(); ones == 0 && b == 0 {
			v.errorf(path+"/@netmask", x.Netmask, "not a contiguous netmask")
			mask = nil
		}
	case x.Prefix != 0:
		if x.Prefix > uint(bits) {
			v.errorf(path+"/@prefix", strconv.FormatUint(uint64(x.Prefix), 10), "prefix longer than %d", bits)
			break
		}
		mask = net.CIDRMask(int(x.Prefix), bits)
	default:
		v.errorf(path, "", "needs a netmask or a prefix")
	}
	if mask == nil {
		return c, false
	}
	c.Net = &net.IPNet{IP: c.Address.Mask(mask), Mask: mask}
	if ones, _ := mask.Size(); is4 && ones > 30 {
		v.errorf(path, c.CIDR(), "an IPv4 network needs room for guests: prefix /30 or shorter")
	}
	if c.Address.Equal(c.Net.IP) || is4 && c.Address.Equal(broadcast(c.Net)) {
		v.errorf(path+"/@address", x.Address, "is the network's own or broadcast address, not a host address")
	}
	if x.DHCP != nil {
		if !is4 {
			v.errorf(path+"/dhcp", "", "vmlite serves DHCP on IPv4 only")
		} else {
			v.dhcp(path+"/dhcp", x.DHCP, &c)
		}
	}
	return c, len(v.errs) == n0
}

func (v *validator) dhcp(path string, x *libvirtxml.NetworkDHCP, c *IPConfig) {
	for i, r := range x.Ranges {
		p := xpath.Child(path, "range", i, len(x.Ranges))
		start, end := v.hostIn(p+"/@start", r.Start, c), v.hostIn(p+"/@end", r.End, c)
		if start == nil || end == nil {
			continue
		}
		if bytes.Compare(start, end) > 0 {
			v.errorf(p, r.Start+"-"+r.End, "range starts after its end")
			continue
		}
		if inRange(c.Address, Range{start, end}) {
			v.errorf(p, r.Start+"-"+r.End, "range contains the bridge's address %s", c.Address)
		}
		c.Ranges = append(c.Ranges, Range{start, end})
	}
	for i, h := range x.Hosts {
		p := xpath.Child(path, "host", i, len(x.Hosts))
		mac, err := net.ParseMAC(h.MAC)
		if err != nil || len(mac) != 6 {
			v.errorf(p+"/@mac", h.MAC, "not an Ethernet address")
		}
		ip := v.hostIn(p+"/@ip", h.IP, c)
		if ip != nil && ip.Equal(c.Address) {
			v.errorf(p+"/@ip", h.IP, "is the bridge's address")
		}
		if h.Name != "" && !hostnameRE.MatchString(h.Name) {
			v.errorf(p+"/@name", h.Name, "not a host name")
		}
		c.Hosts = append(c.Hosts, DHCPHost{MAC: mac, IP: ip, Name: h.Name})
	}
}

var hostnameRE = lazyre.New(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// hostIn parses s as a host address of c's subnet.
func (v *validator) hostIn(path, s string, c *IPConfig) net.IP {
	ip := net.ParseIP(s).To4()
	switch {
	case ip == nil:
		v.errorf(path, s, "not an IPv4 address")
	case !c.Net.Contains(ip):
		v.errorf(path, s, "outside the network %s", c.Net)
	case ip.Equal(c.Net.IP) || ip.Equal(broadcast(c.Net)):
		v.errorf(path, s, "the network's own or broadcast address")
	default:
		return ip
	}
	return nil
}

// broadcast is the last address of an IPv4 subnet.
func broadcast(n *net.IPNet) net.IP {
	ip := n.IP.To4()
	if ip == nil {
		return nil
	}
	b := make(net.IP, 4)
	for i := range b {
		b[i] = ip[i] | ^n.Mask[i]
	}
	return b
}

func inRange(ip net.IP, r Range) bool {
	ip = ip.To4()
	return ip != nil && bytes.Compare(ip, r.Start) >= 0 && bytes.Compare(ip, r.End) <= 0
}

// Marshal returns the network's normalised XML.
func (n *Network) Marshal() ([]byte, error) {
	s, err := n.XML.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal network %s: %w", n.Name, err)
	}
	return []byte(s + "\n"), nil
}
