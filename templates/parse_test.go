package templates

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
)

func TestParseInittab(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []InittabEntry
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{name: "comments", in: "# x\n\n   # y\n", want: nil},
		{
			name: "busybox lines",
			in:   "::sysinit:/etc/init.d/rcS\ntty1::respawn:/sbin/getty 38400 tty1\n::shutdown:/bin/sh -c 'echo a:b'\n",
			want: []InittabEntry{
				{Line: 1, Action: "sysinit", Process: "/etc/init.d/rcS"},
				{Line: 2, ID: "tty1", Action: "respawn", Process: "/sbin/getty 38400 tty1"},
				{Line: 3, Action: "shutdown", Process: "/bin/sh -c 'echo a:b'"},
			},
		},
		{name: "runlevels kept", in: "id:2345:once:/bin/true\n", want: []InittabEntry{{Line: 1, ID: "id", Runlevels: "2345", Action: "once", Process: "/bin/true"}}},
		{name: "three fields", in: "::sysinit\n", wantErr: "line 1: want id:runlevels:action:process"},
		{name: "unknown action", in: "\n::boot:/bin/sh\n", wantErr: `line 2: unknown action "boot"`},
		{name: "empty process", in: "::respawn: \n", wantErr: "line 1: empty process"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseInittab(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d entries %+v, want %+v", len(got), got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func FuzzParseInittab(f *testing.F) {
	f.Add("::sysinit:/etc/init.d/rcS\n::respawn:-/bin/sh\n")
	f.Add("# c\nx::shutdown:/bin/umount -a -r\n")
	f.Add(":::\n")
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := ParseInittab(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, e := range entries {
			if !slices.Contains(InittabActions, e.Action) || e.Process == "" || e.Line < 1 {
				t.Fatalf("accepted a bad entry %+v", e)
			}
		}
	})
}

func TestParseAppletList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{name: "list-full", in: "usr/bin/[\nsbin/init\nbin/sh\nlinuxrc\n", want: []string{"usr/bin/[", "sbin/init", "bin/sh", "linuxrc"}},
		{name: "leading slash and blanks", in: "/sbin/init\n\n  bin/sh  \n", want: []string{"sbin/init", "bin/sh"}},
		{name: "duplicates", in: "bin/sh\nbin/sh\n", want: []string{"bin/sh"}},
		{name: "dotdot", in: "../etc/passwd\n", wantErr: true},
		{name: "unclean", in: "bin//sh\n", wantErr: true},
		{name: "inner dotdot", in: "bin/../../x\n", wantErr: true},
		{name: "empty", in: "\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAppletList(strings.NewReader(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzParseAppletList(f *testing.F) {
	f.Add("usr/bin/[\nsbin/init\n")
	f.Add("/../x\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseAppletList(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, p := range got {
			// The property the builder relies on: joining to a root stays inside.
			if !filepath.IsLocal(p) || filepath.Clean(p) != p {
				t.Fatalf("returned non-local path %q", p)
			}
		}
	})
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{in: "256", want: 256 << 10},
		{in: "256M", want: 256 << 10},
		{in: "256MiB", want: 256 << 10},
		{in: "256mib", want: 256 << 10},
		{in: "1G", want: 1 << 20},
		{in: "2GiB", want: 2 << 20},
		{in: "1T", want: 1 << 30},
		{in: "65536K", want: 65536},
		{in: " 512 M ", want: 512 << 10},
		{in: "512k", wantErr: true}, // under 1 MiB
		{in: "0", wantErr: true},
		{in: "", wantErr: true},
		{in: "M", wantErr: true},
		{in: "256MB", wantErr: true},
		{in: "256iB", wantErr: true},
		{in: "-1G", wantErr: true},
		{in: "1.5G", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
		{in: "18014398509481984G", wantErr: true}, // overflows KiB
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if tc.wantErr {
			if err == nil || !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("ParseSize(%q) = %d, %v; want an ErrInvalid error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"256", "1G", "65536KiB", "1.5G", "18014398509481984G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		kib, err := ParseSize(in)
		if err == nil && kib < 1024 {
			t.Fatalf("ParseSize(%q) = %d KiB, under the 1 MiB floor", in, kib)
		}
	})
}
