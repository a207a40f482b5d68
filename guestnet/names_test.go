package guestnet

import (
	"errors"
	"net"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
)

func TestHostLinkName(t *testing.T) {
	long40 := "a-very-long-guest-name-of-forty-chars-xy"
	if len(long40) != 40 {
		t.Fatalf("fixture is %d characters", len(long40))
	}
	tests := []struct {
		guest string
		index int
		want  string // exact, or "" to check only the shape
		pre   string // required prefix when want is ""
	}{
		{"web1", 0, "vml-web1-0", ""},
		{"web1", 1, "vml-web1-1", ""},
		{"db_2", 12, "vml-db_2-12", ""},
		{"abcdefghij", 0, "", "vml-abcd-"},      // 15+ characters: shortened
		{"abcdefghi", 0, "vml-abcdefghi-0", ""}, // exactly 15
		{long40, 0, "", "vml-a-ve-"},
		{long40, 3, "", "vml-a-ve-"},
		{"web.1", 0, "", "vml-web1-"},       // '.' never kept
		{"wéb 1/x:y%d", 0, "", "vml-wb1x-"}, // odd characters dropped
		{"日本語のゲスト名", 0, "", "vml-"},         // nothing safe left
		{"", 0, "", "vml-"},
	}
	for _, tt := range tests {
		got := HostLinkName(tt.guest, tt.index)
		if err := ValidLinkName(got); err != nil {
			t.Errorf("HostLinkName(%q, %d) = %q, invalid: %v", tt.guest, tt.index, got, err)
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("HostLinkName(%q, %d) = %q, want %q", tt.guest, tt.index, got, tt.want)
		}
		if tt.want == "" && (!strings.HasPrefix(got, tt.pre) || len(got) > MaxLinkName) {
			t.Errorf("HostLinkName(%q, %d) = %q, want prefix %q and at most %d bytes",
				tt.guest, tt.index, got, tt.pre, MaxLinkName)
		}
		if again := HostLinkName(tt.guest, tt.index); again != got {
			t.Errorf("HostLinkName(%q, %d) not stable: %q then %q", tt.guest, tt.index, got, again)
		}
	}
}

func TestHostLinkNameDistinct(t *testing.T) {
	// Shortened names must still differ between guests sharing a prefix and
	// between the interfaces of one guest.
	seen := map[string]string{}
	for _, g := range []string{
		"production-database-primary-01", "production-database-primary-02",
		"production-database-replica-01", "prod", "prod.1", "prod-1",
	} {
		for i := 0; i < 4; i++ {
			n := HostLinkName(g, i)
			key := g + "/" + string(rune('0'+i))
			if prev, ok := seen[n]; ok {
				t.Errorf("%s and %s both get %q", prev, key, n)
			}
			seen[n] = key
		}
	}
}

func TestValidLinkName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"eth0", true},
		{"vml-web1-0", true},
		{"br_test.10", true},
		{"abcdefghijklmno", true}, // 15
		{"abcdefghijklmnop", false},
		{"", false},
		{".", false},
		{"..", false},
		{"eth%d", false},
		{"a/b", false},
		{"a:b", false},
		{"a b", false},
		{"a\tb", false},
		{"eth0@if4", false},
		{"é", false},
	}
	for _, tt := range tests {
		err := ValidLinkName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidLinkName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ValidLinkName(%q) = %v, does not wrap ErrInvalid", tt.name, err)
		}
	}
}

func TestGuestMAC(t *testing.T) {
	const u = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
	tests := []struct {
		uuid  string
		index int
		same  string // a spelling that must give the same MAC
	}{
		{u, 0, strings.ToUpper(u)},
		{u, 1, strings.ReplaceAll(u, "-", "")},
		{"00000000-0000-0000-0000-000000000000", 0, "00000000000000000000000000000000"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		got := GuestMAC(tt.uuid, tt.index)
		hw, err := net.ParseMAC(got)
		if err != nil || len(hw) != 6 {
			t.Fatalf("GuestMAC(%q, %d) = %q: not a MAC: %v", tt.uuid, tt.index, got, err)
		}
		if !strings.HasPrefix(got, "52:54:00:") {
			t.Errorf("GuestMAC(%q, %d) = %q, want the 52:54:00 prefix", tt.uuid, tt.index, got)
		}
		if hw[0]&0x02 == 0 || hw[0]&0x01 != 0 {
			t.Errorf("GuestMAC(%q, %d) = %q is not a locally administered unicast address", tt.uuid, tt.index, got)
		}
		if other := GuestMAC(tt.same, tt.index); other != got {
			t.Errorf("GuestMAC(%q) = %q but GuestMAC(%q) = %q", tt.uuid, got, tt.same, other)
		}
		if seen[got] {
			t.Errorf("GuestMAC(%q, %d) = %q repeats an earlier MAC", tt.uuid, tt.index, got)
		}
		seen[got] = true
	}
	if GuestMAC(u, 0) == GuestMAC(u, 1) {
		t.Errorf("two interfaces of one guest share MAC %s", GuestMAC(u, 0))
	}
}

func TestHostMAC(t *testing.T) {
	g, _ := net.ParseMAC("52:54:00:12:34:56")
	if got := HostMAC(g).String(); got != "fe:54:00:12:34:56" {
		t.Errorf("HostMAC(%s) = %s, want fe:54:00:12:34:56", g, got)
	}
	if g.String() != "52:54:00:12:34:56" {
		t.Errorf("HostMAC changed its argument to %s", g)
	}
	if HostMAC(net.HardwareAddr{1, 2}) != nil {
		t.Errorf("HostMAC of a short address is not nil")
	}
}

// FuzzValidLinkName checks that every accepted name is one the kernel accepts
// too, and that HostLinkName never produces a name ValidLinkName refuses.
func FuzzValidLinkName(f *testing.F) {
	for _, s := range []string{"eth0", "", ".", "..", "eth%d", "a/b", "abcdefghijklmnop", "vml-x-0", "é"} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, index int) {
		if err := ValidLinkName(s); err == nil {
			if len(s) == 0 || len(s) > MaxLinkName || s == "." || s == ".." ||
				strings.ContainsAny(s, "/:% \t\n\v\f\r@") {
				t.Errorf("ValidLinkName(%q) accepted a name the kernel or ip(8) would reject", s)
			}
		} else if !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ValidLinkName(%q) = %v, does not wrap ErrInvalid", s, err)
		}
		n := HostLinkName(s, index)
		if err := ValidLinkName(n); err != nil {
			t.Errorf("HostLinkName(%q, %d) = %q: %v", s, index, n, err)
		}
		if !strings.HasPrefix(n, HostLinkPrefix) {
			t.Errorf("HostLinkName(%q, %d) = %q lacks the %q prefix", s, index, n, HostLinkPrefix)
		}
	})
}
