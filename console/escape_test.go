package console

import "testing"

func TestScanEscape(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		enabled  bool
		want     string
		wantDone bool
	}{
		{"none", "hello", true, "hello", false},
		{"alone", "\x1d", true, "", true},
		{"middle", "abc\x1ddef", true, "abc", true},
		{"end", "abc\x1d", true, "abc", true},
		{"first of two", "a\x1db\x1dc", true, "a", true},
		{"disabled", "abc\x1ddef", false, "abc\x1ddef", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, done := scanEscape([]byte(tc.in), DefaultEscape, tc.enabled)
			if string(got) != tc.want || done != tc.wantDone {
				t.Fatalf("scanEscape(%q) = %q, %v; want %q, %v", tc.in, got, done, tc.want, tc.wantDone)
			}
		})
	}
}

func TestParseEscape(t *testing.T) {
	tests := []struct {
		in      string
		want    byte
		ok      bool
		wantErr bool
	}{
		{"^]", 0x1d, true, false},
		{"^A", 0x01, true, false},
		{"^a", 0x01, true, false},
		{"^?", 0x7f, true, false},
		{"~", '~', true, false},
		{"none", 0, false, false},
		{"", 0, false, true},
		{"ab", 0, false, true},
		{"^", '^', true, false},
		{"é", 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			b, ok, err := ParseEscape(tc.in)
			if (err != nil) != tc.wantErr || b != tc.want || ok != tc.ok {
				t.Fatalf("ParseEscape(%q) = %#x, %v, %v; want %#x, %v, err %v", tc.in, b, ok, err, tc.want, tc.ok, tc.wantErr)
			}
		})
	}
}

// TestEscapeNameRoundTrip checks that every control and printable ASCII byte
// survives EscapeName -> ParseEscape.
func TestEscapeNameRoundTrip(t *testing.T) {
	for b := 1; b < 0x80; b++ {
		name := EscapeName(byte(b))
		got, ok, err := ParseEscape(name)
		if err != nil || !ok || got != byte(b) {
			t.Errorf("ParseEscape(EscapeName(%#x) = %q) = %#x, %v, %v", b, name, got, ok, err)
		}
	}
	if got := EscapeName(DefaultEscape); got != "^]" {
		t.Fatalf("EscapeName(DefaultEscape) = %q, want ^]", got)
	}
}

// FuzzParseEscape: ParseEscape never panics, and what it accepts renders
// back (EscapeName) to a name that parses to the same byte.
func FuzzParseEscape(f *testing.F) {
	for _, s := range []string{"^]", "^A", "^?", "~", "none", "", "^", "ab", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, ok, err := ParseEscape(s)
		if err != nil || !ok {
			return
		}
		again, ok2, err := ParseEscape(EscapeName(b))
		if err != nil || !ok2 || again != b {
			t.Fatalf("ParseEscape(%q) = %#x, but EscapeName gives %q -> %#x, %v, %v", s, b, EscapeName(b), again, ok2, err)
		}
	})
}
