package domain

import "testing"

func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    check
		ok   []string
		bad  []string
	}{
		{"name", isDomainName, []string{"web1", "8675309", "a b", "ü", "web-1", "日本"}, []string{"", "a/b", "a\nb", ".", "..", "a\x01", "--help", "-x", " web", "web ", "web\t", "ab\u202ecd", "a\u200bb", "\u2066x", "a\u0085b", "\xff"}},
		{"uuid", isUUID, []string{"8369f1ac-7e46-e869-4ca5-759d51478066", "8369F1AC7E46E8694CA5759D51478066"}, []string{"", "8369f1ac-7e46-e869-4ca5-759d5147806", "8369f1ac7e46-e869-4ca5-759d51478066", "00000000-0000-0000-0000-000000000000", "zz69f1ac-7e46-e869-4ca5-759d51478066"}},
		{"ip", isIP, []string{"10.0.0.1", "::", "fd00::1", "0.0.0.0"}, []string{"10.0.0.300", "10.0.0.1/24", "fe80::1%eth0", "010.0.0.1", ""}},
		{"mac", isMAC, []string{"52:54:00:12:34:56", "00:16:3E:0F:EF:8A", "52:54:00:3a:f:c1"}, []string{"01:00:5e:00:00:01", "52-54-00-12-34-56", "5254.0012.3456", "52:54:00:12:34", "", "52:54:00:3a:f:c1f", "00:00:00:00:00:00", "0:0:0:0:0:0"}},
		{"ifname", isIfName, []string{"eth0", "vb-web1", "br.10", "a_b", "lo"}, []string{"", ".", "..", "eth0:1", "a/b", "a b", "abcdefghijklmnop", "eth%d", "a@b"}},
		// The guest's own name of an interface: "lo" was accepted here and
		// refused by the supervisor's set-up, after the guest was made.
		{"guest ifname", isGuestIfName, []string{"eth0", "lo0"}, []string{"lo", "", "a/b"}},
		{"cpuset", isCPUList, []string{"0", "0-3", "0-3,^2,8"}, []string{"", "a", "0-", "^2-3", "0, 1"}},
		{"abs file path", isAbsFilePath, []string{"/sbin/init", "/a"}, []string{"/", "sbin/init", ""}},
		{"clean abs path", isCleanAbsPath, []string{"/", "/var/lib/x"}, []string{"/a/../b", "a"}},
		{"partition", isPartition, []string{"/machine", "/a/b", "/a.b", "/m/x.1234567", "/m/x.123456789"}, []string{"/", "machine", "/a/", "/a//b", "/a/../b", "/machine/web.0a1b2c3d", "/machine/web.0a1b2c3d/sub"}},
		{"env", isEnvName, []string{"PATH", "_x1"}, []string{"1A", "A-B", ""}},
		{"user", isUserOrGroup, []string{"root", "1000", "+1000", "www-data"}, []string{"", "a b", "+x", "a.b"}},
		{"unit", isUnit, []string{"KiB", "k", "bytes", "GB", "e"}, []string{"", "MB2", "kibibyte"}},
		{"hostname", isHostname, []string{"web1", "web1.example.com", "a"}, []string{"", "-a", "a_b", "a..b"}},
		{"signal", isSignal, []string{"SIGTERM", "SIGRTMIN+4", "SIGPWR", "SIGRTMAX-1", "SIGWINCH", "SIGCHLD"}, []string{"TERM", "sigterm", "SIGRTMIN+31", "SIGRTMAX-31", "SIGNOPE", ""}},
		{"duration", isDuration, []string{"30s", "2m", "0s"}, []string{"30", "-1s", ""}},
		{"quota", isCPUQuota, []string{"-1", "1000", "50000"}, []string{"0", "999", "-2", "x"}},
		{"range", uintRange(2, 10), []string{"2", "10"}, []string{"1", "11", "-1", "x"}},
	} {
		for _, v := range tc.ok {
			if err := tc.c(v); err != nil {
				t.Errorf("%s: %q refused: %v", tc.name, v, err)
			}
		}
		for _, v := range tc.bad {
			if err := tc.c(v); err == nil {
				t.Errorf("%s: %q accepted", tc.name, v)
			}
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"memory", "devices", "name", "uuid", "os"}
	for in, want := range map[string]string{"memroy": "memory", "devcies": "devices", "nmae": "name", "Memory": "memory", "xyzzy": "", "o": "os"} {
		if got := suggest(in, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPaths(t *testing.T) {
	root, ferr := readTree("t", []byte("<domain>\n<devices><interface/><interface>\n<ip a='1'\n b='2'/></interface><console/></devices></domain>"))
	if ferr != nil {
		t.Fatal(ferr)
	}
	assignPaths(root)
	ifs := root.child("devices").all("interface")
	ip := ifs[1].child("ip")
	if ifs[0].path != "/domain/devices/interface[1]" || ip.path != "/domain/devices/interface[2]/ip" {
		t.Errorf("paths %q %q", ifs[0].path, ip.path)
	}
	if c := root.child("devices").child("console"); c.path != "/domain/devices/console" {
		t.Errorf("console path %q", c.path)
	}
	if ip.line != 3 || ip.attrLine("a") != 3 || ip.attrLine("b") != 4 {
		t.Errorf("lines: ip %d a %d b %d", ip.line, ip.attrLine("a"), ip.attrLine("b"))
	}
	if attrPath(ip, "b") != "/domain/devices/interface[2]/ip/@b" {
		t.Errorf("attr path %q", attrPath(ip, "b"))
	}
}

func TestSyntaxErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                                       "t:1: XML syntax error: no <domain> element: the file is empty",
		"<domain>\n<name>x</nmae>\n</domain>":    "t:2: XML syntax error: element <name> opened at line 2 is closed by </nmae>",
		"<domain>\n<os>\n":                       "t:3: XML syntax error: unexpected end of file: <os> opened at line 2 is not closed (truncated file?)",
		"<domain/><domain/>":                     "t:1: XML syntax error: a second top-level element <domain> after </domain>",
		"<domain><x:y/></domain>":                `t:1: XML syntax error: namespace prefix "x" of <x:y> is not declared`,
		"<!DOCTYPE domain><domain/>":             "t:1: XML syntax error: <!DOCTYPE> is not allowed in domain XML",
		"<domain>\n<name a='1' a='2'/></domain>": "t:2: XML syntax error: ",
	} {
		_, _, err := Parse("t", []byte(in))
		if err == nil || len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Errorf("Parse(%q) = %v, want %q", in, err, want)
		}
	}
}
