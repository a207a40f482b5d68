package mountinfo

import (
	"strings"
	"testing"
)

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`:    "/a b",
		`/a\134b`:    `/a\b`,
		`/a\011\012`: "/a\t\n",
		`/a\04`:      `/a\04`,
		`/a\9999`:    `/a\9999`,
		`/plain`:     "/plain",
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	ms, err := Parse("36 35 98:0 /mnt1 /mnt\\040x rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\n37 36 0:5 / /proc rw - proc proc\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{ID: 36, Parent: 35, Dev: "98:0", Root: "/mnt1", MountPoint: "/mnt x", Options: "rw,noatime", FSType: "ext3", Source: "/dev/root", SuperOptions: "rw,errors=continue"},
		{ID: 37, Parent: 36, Dev: "0:5", Root: "/", MountPoint: "/proc", Options: "rw", FSType: "proc", Source: "proc"},
	}
	if len(ms) != len(want) {
		t.Fatalf("Parse = %+v", ms)
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, ms[i], want[i])
		}
	}
	for _, bad := range []string{"1 2 3", "x 1 0:1 / / rw - t s rw", "1 1 0:1 / / rw shared:1 t s rw", "1 1 0:1 / / rw -"} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), "mountinfo line 1") {
			t.Errorf("Parse(%q): %v, want an error naming line 1", bad, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("36 35 98:0 /mnt1 /mnt\\040x rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n")
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := Parse(s)
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.FSType == "" || m.MountPoint == "" {
				t.Fatalf("a parsed mount without type or mount point: %+v", m)
			}
		}
	})
}
