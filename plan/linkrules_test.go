package plan

import "testing"

func TestCheckLinkName(t *testing.T) {
	for name, ok := range map[string]bool{
		"eth0": true, "vml-web1-0": true, "br.10": true, "a_b": true, "123456789012345": true, "lo": true,
		"": false, ".": false, "..": false, "1234567890123456": false, "eth%d": false, "a@b": false, "eth0:1": false, "a/b": false, "a b": false, "é": false,
	} {
		if err := CheckLinkName(name); (err == nil) != ok {
			t.Errorf("CheckLinkName(%q) = %v, want ok %v", name, err, ok)
		}
	}
	if CheckGuestLinkName("lo") == nil || CheckGuestLinkName("eth0") != nil || CheckGuestLinkName("a/b") == nil {
		t.Error("CheckGuestLinkName: lo must be refused, eth0 accepted, a/b refused")
	}
}
