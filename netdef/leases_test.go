package netdef

import (
	"testing"
	"time"
)

func TestParseLeaseFile(t *testing.T) {
	data := []byte("1767225600 52:54:00:aa:bb:cc 198.18.100.101 web1 01:52:54:00:aa:bb:cc\n" +
		"0 52:54:00:AA:BB:CD 198.18.100.102 * *\n" +
		"duid 00:01:00:01:2c:aa:bb:cc:52:54:00:00:00:01\n" +
		"1767225600 1234 fd00::10 web6 00:01\n" +
		"garbage\n" +
		"-5 52:54:00:aa:bb:ce 198.18.100.103 x y\n")
	got := parseLeaseFile(data)
	if len(got) != 2 {
		t.Fatalf("leases = %+v, want 2", got)
	}
	if l := got[0]; l.MAC != "52:54:00:aa:bb:cc" || l.IP.String() != "198.18.100.101" || l.Hostname != "web1" ||
		l.ClientID != "01:52:54:00:aa:bb:cc" || !l.Expiry.Equal(time.Unix(1767225600, 0)) {
		t.Errorf("first lease = %+v", l)
	}
	if l := got[1]; l.MAC != "52:54:00:aa:bb:cd" || l.Hostname != "" || l.ClientID != "" || !l.Expiry.IsZero() {
		t.Errorf("second lease (infinite, no name or id) = %+v", l)
	}
}

func FuzzParseLeaseFile(f *testing.F) {
	f.Add([]byte("1767225600 52:54:00:aa:bb:cc 198.18.100.101 web1 *\n"))
	f.Add([]byte("duid 00:01\n0 aa 1.2.3.4\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range parseLeaseFile(data) {
			if l.IP.To4() == nil || l.MAC == "" {
				t.Fatalf("lease without an IPv4 address or MAC: %+v", l)
			}
		}
	})
}
