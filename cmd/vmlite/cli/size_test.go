package cli

import (
	"errors"
	"testing"

	"vmlite/internal/errdefs"
)

func TestParseScaledSize(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		bad  bool
	}{
		{in: "65536", want: 64 << 20},
		{in: "512M", want: 512 << 20},
		{in: "512MiB", want: 512 << 20},
		{in: "512mb", want: 512_000_000},
		{in: "1G", want: 1 << 30},
		{in: "2 GiB", want: 2 << 30},
		{in: "1GB", want: 1_000_000_000},
		{in: "4096b", want: 4096},
		{in: "10bytes", want: 10},
		{in: "1k", want: 1024},
		{in: "1KB", want: 1000},
		{in: "1T", want: 1 << 40},
		{in: "1E", want: 1 << 60},
		{in: "", bad: true},
		{in: "M", bad: true},
		{in: "1.5G", bad: true},
		{in: "-1", bad: true},
		{in: "12X", bad: true},
		{in: "1GiBB", bad: true},
		{in: "99999999999999999999", bad: true},
		{in: "8E", bad: true},
	}
	for _, tc := range tests {
		got, err := parseScaledSize(tc.in)
		if tc.bad {
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("parseScaledSize(%q) = %d, %v; want ErrInvalid", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseScaledSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, s := range []string{"-1", "unlimited", "Unlimited"} {
		if v, err := parseLimitSize(s); err != nil || v != 0 {
			t.Errorf("parseLimitSize(%q) = %d, %v; want 0", s, v, err)
		}
	}
	if kib(0) != "unlimited" || kib(64<<20) != "65536" {
		t.Errorf("kib: %q %q", kib(0), kib(64<<20))
	}
}

func FuzzParseScaledSize(f *testing.F) {
	for _, s := range []string{"65536", "512M", "1GB", "4096b", "1.5G", "8E"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseScaledSize(s)
		if err == nil && v > 1<<62 {
			t.Fatalf("parseScaledSize(%q) = %d, over the ceiling", s, v)
		}
	})
}
