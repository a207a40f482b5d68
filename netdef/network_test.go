package netdef

import (
	"errors"
	"net"
	"strings"
	"testing"

	"vmlite/domain"
	"vmlite/guestnet"
	"vmlite/internal/errdefs"
)

// libvirt's own default network, as shipped (network/default.xml).
const defaultXML = `<network>
  <name>default</name>
  <bridge name='virbr0'/>
  <forward/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
`

func TestParseDefault(t *testing.T) {
	n, err := Parse("default.xml", []byte(defaultXML))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	c := n.IPv4()
	switch {
	case n.Name != "default", n.Bridge != "virbr0", n.Forward != ForwardNAT:
		t.Errorf("got name %q bridge %q forward %q", n.Name, n.Bridge, n.Forward)
	case c == nil || c.CIDR() != "192.168.122.1/24" || c.Net.String() != "192.168.122.0/24":
		t.Errorf("got ip %+v", c)
	case len(c.Ranges) != 1 || c.Ranges[0].Start.String() != "192.168.122.2" || c.Ranges[0].End.String() != "192.168.122.254":
		t.Errorf("got ranges %+v", c.Ranges)
	case len(n.UUID) != 36 || n.MAC == nil || n.MAC[0]&3 != 2:
		t.Errorf("UUID %q and MAC %v not filled in", n.UUID, n.MAC)
	}
	// The normalised XML parses to the same network, UUID and MAC included.
	b, err := n.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	n2, err := Parse("again", b)
	if err != nil {
		t.Fatalf("re-parse of %s: %v", b, err)
	}
	if n2.UUID != n.UUID || n2.MAC.String() != n.MAC.String() || n2.Forward != ForwardNAT || !strings.Contains(string(b), "mode=\"nat\"") {
		t.Errorf("round trip changed the network:\n%s", b)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name, xml string
		check     func(*Network) bool
	}{
		{"isolated, prefix, generated bridge", `<network><name>iso</name><ip address='10.1.0.1' prefix='16'/></network>`,
			func(n *Network) bool {
				return n.Forward == ForwardNone && n.Bridge == "vmlbr-iso" && n.IPv4().Prefix() == 16
			}},
		{"route, hosts, mtu, mac, uuid", `<network>
  <name>r</name><uuid>4DEA22B31D52D8F32516782E98AB3FA0</uuid>
  <forward mode='route'/><mac address='52:54:00:aa:bb:cc'/><mtu size='9000'/>
  <ip family='ipv4' address='10.2.0.1' prefix='24'><dhcp>
    <host mac='52:54:00:00:00:01' ip='10.2.0.10' name='web'/>
  </dhcp></ip>
  <ip family='ipv6' address='fd00::1' prefix='64'/>
</network>`, func(n *Network) bool {
			c := n.IPv4()
			return n.Forward == ForwardRoute && n.UUID == "4dea22b3-1d52-d8f3-2516-782e98ab3fa0" &&
				n.MAC.String() == "52:54:00:aa:bb:cc" && n.MTU == 9000 && len(n.IPs) == 2 &&
				len(c.Hosts) == 1 && c.Hosts[0].IP.String() == "10.2.0.10" && c.Hosts[0].Name == "web"
		}},
		{"long name gets a short bridge", `<network><name>a-network-with-a-long-name</name></network>`,
			func(n *Network) bool {
				return guestnet.ValidLinkName(n.Bridge) == nil && strings.HasPrefix(n.Bridge, "vmlbr")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse("t.xml", []byte(tt.xml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !tt.check(n) {
				t.Errorf("unexpected network %+v", n)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, xml string
		want      []string // substrings of the error, in order of the errors
	}{
		{"not xml", `<network><name>x</name>`, []string{"t.xml:1: XML syntax error: unexpected end of file"}},
		{"not a network", `<domain/>`, []string{"/domain: the top-level element must be <network>, not <domain>"}},
		{"unknown element", "<network>\n<name>x</name>\n<dns/>\n</network>", []string{"t.xml:3: /network/dns: not supported by vmlite: not implemented for managed networks"}},
		{"unknown attribute", `<network><name>x</name><forward mode='nat' dev='eth0'/></network>`, []string{"/network/forward/@dev: unknown attribute dev of <forward>; fix: remove it"}},
		{"nested unknown", `<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><bootp file='x'/></dhcp></ip></network>`, []string{"/network/ip/dhcp/bootp: not supported by vmlite: BOOTP"}},
		{"dnsmasq options", "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>x</name>\n<dnsmasq:options><dnsmasq:option value='foo=bar'/></dnsmasq:options></network>",
			[]string{"t.xml:2: /network/dnsmasq:options: not supported by vmlite: dnsmasq options"}},
		{"other namespace", "<network xmlns:o='urn:o'><name>x</name>\n<o:thing/>\n<bridge o:x='1'/></network>",
			[]string{"t.xml:2: /network/o:thing: not supported by vmlite: unknown element", "t.xml:3: /network/bridge/@o:x: not supported by vmlite: unknown attribute"}},
		{"schema and values at once", "<network><name>x</name>\n<bridge stp='maybe'/>\n<ip address='10.0.0.300' prefix='24'/></network>",
			[]string{"t.xml:2: /network/bridge/@stp: must be one of on, off", `t.xml:3: /network/ip/@address: not an IP address`}},
		{"twice", `<network><name>x</name><name>y</name></network>`, []string{"/network/name[2]: <name> appears more than once"}},
		{"no name", `<network/>`, []string{"/network/name: a network needs a <name>"}},
		{"bad name", `<network><name>../etc</name></network>`, []string{`/network/name: use letters`}},
		{"forward mode", `<network><name>x</name><forward mode='bridge'/><ip address='10.0.0.1' prefix='24'/></network>`, []string{"/network/forward/@mode: not supported by vmlite: forward mode bridge"}},
		{"nat needs ipv4", `<network><name>x</name><forward/></network>`, []string{"forwarding needs an IPv4 <ip>"}},
		{"several errors", "<network>\n<name>x</name>\n<ip address='10.0.0.300' prefix='24'/>\n<ip address='10.1.0.1'/>\n</network>",
			[]string{`t.xml:3: /network/ip[1]/@address: not an IP address (got "10.0.0.300")`, "t.xml:4: /network/ip[2]: needs a netmask or a prefix"}},
		{"netmask and prefix", `<network><name>x</name><ip address='10.0.0.1' netmask='255.255.255.0' prefix='24'/></network>`, []string{"not both"}},
		{"bad netmask", `<network><name>x</name><ip address='10.0.0.1' netmask='255.0.255.0'/></network>`, []string{"not a contiguous netmask"}},
		{"prefix too long", `<network><name>x</name><ip address='10.0.0.1' prefix='33'/></network>`, []string{"prefix longer than 32"}},
		{"too small", `<network><name>x</name><ip address='10.0.0.1' prefix='31'/></network>`, []string{"prefix /30 or shorter"}},
		{"network address", `<network><name>x</name><ip address='10.0.0.0' prefix='24'/></network>`, []string{"network's own or broadcast address"}},
		{"family", `<network><name>x</name><ip family='ipv6' address='10.0.0.1' prefix='24'/></network>`, []string{"/network/ip/@family: does not match"}},
		{"range outside", `<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.1.2' end='10.0.0.9'/></dhcp></ip></network>`,
			[]string{"/network/ip/dhcp/range/@start: outside the network 10.0.0.0/24"}},
		{"range reversed", `<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.9' end='10.0.0.2'/></dhcp></ip></network>`, []string{"starts after its end"}},
		{"range has bridge", `<network><name>x</name><ip address='10.0.0.5' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/></dhcp></ip></network>`, []string{"contains the bridge's address"}},
		{"host", `<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><host mac='zz' ip='10.0.0.1' name='-x'/></dhcp></ip></network>`,
			[]string{"host/@mac: not an Ethernet address", "host/@ip: is the bridge's address", "host/@name: not a host name"}},
		{"dhcp v6", `<network><name>x</name><ip address='fd00::1' prefix='64'><dhcp/></ip></network>`, []string{"DHCP on IPv4 only"}},
		{"two v4", `<network><name>x</name><ip address='10.0.0.1' prefix='24'/><ip address='10.1.0.1' prefix='24'/></network>`, []string{"one IPv4 <ip>"}},
		{"overlap", `<network><name>x</name><ip address='10.0.0.1' prefix='16'/><ip address='10.0.5.1' prefix='24'/></network>`, []string{"overlaps"}},
		{"mac", `<network><name>x</name><mac address='01:00:5e:00:00:01'/></network>`, []string{"/network/mac/@address: not a unicast"}},
		{"mtu", `<network><name>x</name><mtu size='10'/></network>`, []string{"/network/mtu/@size: want an MTU of 68-65535"}},
		{"uuid", `<network><name>x</name><uuid>nope</uuid></network>`, []string{"/network/uuid: not a UUID"}},
		{"bridge", `<network><name>x</name><bridge name='br:0' stp='maybe'/></network>`, []string{"/network/bridge/@stp: must be one of on, off", "/network/bridge/@name: not a valid interface name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.xml", []byte(tt.xml))
			if err == nil {
				t.Fatalf("Parse accepted it")
			}
			if !errors.Is(err, errdefs.ErrInvalid) || !errdefs.IsUserError(err) {
				t.Errorf("error %v is not a user error wrapping ErrInvalid", err)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error:\n%s\nlacks (in order) %q", msg, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestBridgeName(t *testing.T) {
	for _, name := range []string{"default", "a", "net_1", "a-network-with-a-long-name", "n.x", "日本"} {
		b := BridgeName(name)
		if err := guestnet.ValidLinkName(b); err != nil || !strings.HasPrefix(b, "vmlbr") {
			t.Errorf("BridgeName(%q) = %q: %v", name, b, err)
		}
	}
	if BridgeName("default") != "vmlbr-default" {
		t.Errorf("BridgeName(default) = %q", BridgeName("default"))
	}
	if BridgeName("a-network-with-a-long-name") == BridgeName("a-network-with-a-long-name2") {
		t.Errorf("shortened bridge names collide")
	}
}

func TestBroadcast(t *testing.T) {
	_, n, _ := net.ParseCIDR("10.1.2.0/23")
	if b := broadcast(n); b.String() != "10.1.3.255" {
		t.Errorf("broadcast(%v) = %v", n, b)
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives a round trip through its normalised XML.
func FuzzParse(f *testing.F) {
	f.Add(defaultXML)
	f.Add(`<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><host mac='52:54:00:00:00:01' ip='10.0.0.9'/></dhcp></ip></network>`)
	f.Add(`<network><name>x</name><ip address='fd00::1' prefix='64'/></network>`)
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse("f.xml", []byte(s))
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		b, err := n.Marshal()
		if err != nil {
			t.Fatalf("Marshal of an accepted network: %v", err)
		}
		n2, err := Parse("again", b)
		if err != nil {
			t.Fatalf("normalised XML rejected: %v\n%s", err, b)
		}
		if n2.Name != n.Name || n2.UUID != n.UUID || n2.Bridge != n.Bridge || n2.Forward != n.Forward || len(n2.IPs) != len(n.IPs) {
			t.Fatalf("round trip changed the network:\n%s", b)
		}
	})
}

// TestParseErrorsAreDomainErrors: network XML reports its problems as
// domain XML does (domain.Errors, FILE:LINE: /xpath: message), so a user,
// the CLI and the RPC server see one kind of XML error.
func TestParseErrorsAreDomainErrors(t *testing.T) {
	_, err := Parse("net.xml", []byte("<network>\n  <name>n</name>\n  <bogus/>\n  <ip address='10.0.0.1' prefix='99'/>\n</network>"))
	var es domain.Errors
	if !errors.As(err, &es) || len(es) == 0 {
		t.Fatalf("Parse: %T %v, want domain.Errors", err, err)
	}
	if !errors.Is(err, errdefs.ErrInvalid) || !errdefs.IsUserError(err) {
		t.Errorf("Parse: %v is not a user error wrapping ErrInvalid", err)
	}
	if got := es[0].Error(); got != "net.xml:3: /network/bogus: unknown element <bogus> in <network>; fix: remove it" {
		t.Errorf("first error %q", got)
	}
}
