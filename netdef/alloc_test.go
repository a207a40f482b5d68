package netdef

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestPickAddress(t *testing.T) {
	cfg := func(xml string) *IPConfig {
		n, err := Parse("t.xml", []byte(xml))
		if err != nil {
			t.Fatal(err)
		}
		return n.IPv4()
	}
	def := cfg(defaultXML) // range .2-.254: nothing outside it
	small := cfg(`<network><name>s</name><ip address='10.0.0.1' prefix='29'><dhcp><range start='10.0.0.2' end='10.0.0.4'/></dhcp></ip></network>`)
	tests := []struct {
		name          string
		c             *IPConfig
		taken, leased []string
		want          string // "" = error
	}{
		{"outside the range first", small, nil, nil, "10.0.0.5"},
		{"skip taken", small, []string{"10.0.0.5"}, nil, "10.0.0.6"},
		{"then inside the range", small, []string{"10.0.0.5", "10.0.0.6"}, nil, "10.0.0.2"},
		{"not leased", small, []string{"10.0.0.5", "10.0.0.6"}, []string{"10.0.0.2"}, "10.0.0.3"},
		{"full", small, []string{"10.0.0.5", "10.0.0.6", "10.0.0.2"}, []string{"10.0.0.3", "10.0.0.4"}, ""},
		{"default network", def, []string{"192.168.122.2"}, []string{"192.168.122.3"}, "192.168.122.4"},
	}
	for _, tt := range tests {
		set := func(l []string) map[string]bool {
			m := map[string]bool{}
			for _, s := range l {
				m[s] = true
			}
			return m
		}
		ip, err := pickAddress(tt.c, set(tt.taken), set(tt.leased))
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("%s: got %v, want an error", tt.name, ip)
		case tt.want != "" && (err != nil || ip.String() != tt.want):
			t.Errorf("%s: got %v %v, want %s", tt.name, ip, err, tt.want)
		}
	}
}

func TestParseLeases(t *testing.T) {
	got := parseLeases([]byte("1700000000 52:54:00:AA:bb:cc 10.0.0.3 web 01:52:54:00:aa:bb:cc\ngarbage\n1700000001 52:54:00:00:00:01 10.0.0.4 * *\n"))
	if len(got) != 2 || got["52:54:00:aa:bb:cc"] != "10.0.0.3" || got["52:54:00:00:00:01"] != "10.0.0.4" {
		t.Errorf("parseLeases = %v", got)
	}
}

func TestAllocationsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.json")
	a, err := readAllocations(path)
	if err != nil || len(a.Entries) != 0 {
		t.Fatalf("missing file: %v %v", a, err)
	}
	a.Entries = []allocation{
		{UUID: "u2", IP: "10.0.0.9", MAC: "52:54:00:00:00:02"},
		{UUID: "u1", IP: "10.0.0.8", MAC: "52:54:00:00:00:01"},
		{UUID: "bad", IP: "x", MAC: "y"},
	}
	if err := a.write(path); err != nil {
		t.Fatal(err)
	}
	b, err := readAllocations(path)
	if err != nil || len(b.Entries) != 3 {
		t.Fatalf("re-read: %v %v", b, err)
	}
	n, err := Parse("t.xml", []byte(`<network><name>x</name><ip address='10.0.0.1' prefix='24'><dhcp><host mac='52:54:00:00:00:03' ip='10.0.0.3'/></dhcp></ip></network>`))
	if err != nil {
		t.Fatal(err)
	}
	hosts := n.dhcpHosts(b)
	want := []string{"10.0.0.3", "10.0.0.8", "10.0.0.9"} // XML hosts, then by UUID; damaged entries skipped
	if len(hosts) != len(want) {
		t.Fatalf("dhcpHosts = %v", hosts)
	}
	for i, h := range hosts {
		if h.IP.String() != want[i] {
			t.Errorf("host %d: %v, want %s", i, h.IP, want[i])
		}
	}
	if _, err := n.checkAllocRequest("u", "nope"); err == nil {
		t.Errorf("bad MAC accepted")
	}
}

// FuzzParseLeases checks that any lease file parses without panicking into
// MAC -> address pairs whose addresses are IP addresses.
func FuzzParseLeases(f *testing.F) {
	f.Add("1700000000 52:54:00:aa:bb:cc 10.0.0.3 web 01:52:54:00:aa:bb:cc\n")
	f.Add("x\n\n1 2 fd00::1\n")
	f.Fuzz(func(t *testing.T, s string) {
		for mac, ip := range parseLeases([]byte(s)) {
			if net.ParseIP(ip) == nil || mac != strings.ToLower(mac) {
				t.Errorf("parseLeases gave %q -> %q", mac, ip)
			}
		}
	})
}
