package templates

import (
	"strings"
	"testing"
)

func TestMountsUnder(t *testing.T) {
	info := `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:5 / /var/tmp/t/root/proc rw - proc proc rw
31 22 0:6 / /var/tmp/t/root/sys rw - sysfs sysfs rw
32 31 0:7 / /var/tmp/t/root/sys/kernel/security rw - securityfs s rw
33 22 0:8 / /var/tmp/t/root2/proc rw - proc proc rw
34 22 0:9 / /var/tmp/t/with\040space/dev rw - tmpfs t rw
35 22 0:10 / /var/tmp/t/root rw - tmpfs t rw
`
	tests := []struct {
		dir  string
		want []string
	}{
		{"/var/tmp/t/root", []string{"/var/tmp/t/root/sys/kernel/security", "/var/tmp/t/root/sys", "/var/tmp/t/root/proc", "/var/tmp/t/root"}},
		{"/var/tmp/t/root/", []string{"/var/tmp/t/root/sys/kernel/security", "/var/tmp/t/root/sys", "/var/tmp/t/root/proc", "/var/tmp/t/root"}},
		{"/var/tmp/t/with space", []string{"/var/tmp/t/with space/dev"}},
		{"/var/tmp/t/roo", nil},
	}
	for _, tc := range tests {
		got, err := MountsUnder(strings.NewReader(info), tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("MountsUnder(%s) = %q, want %q", tc.dir, got, tc.want)
		}
	}
	if _, err := MountsUnder(strings.NewReader("1 2 3\n"), "/x"); err == nil {
		t.Error("short line: no error")
	}
}

func FuzzMountsUnder(f *testing.F) {
	f.Add("30 22 0:5 / /t/root/proc rw - proc proc rw\n", "/t/root")
	f.Add("1 1 1:1 / /a\\040b rw - tmpfs t rw\n", "/a b")
	f.Fuzz(func(t *testing.T, info, dir string) {
		got, err := MountsUnder(strings.NewReader(info), dir)
		if err != nil || dir == "" || !strings.HasPrefix(dir, "/") {
			return
		}
		for i, m := range got {
			// Deepest first: never a parent before one of its children.
			for _, later := range got[i+1:] {
				if strings.HasPrefix(later, m+"/") {
					t.Fatalf("%q comes before its child %q", m, later)
				}
			}
		}
	})
}
