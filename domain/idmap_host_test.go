package domain

import (
	"strings"
	"testing"
)

// TestIDMapHostRoot: a range that maps host id 0 is refused with its xpath;
// one onto host system ids (below 1000) is accepted with a warning.
func TestIDMapHostRoot(t *testing.T) {
	doc := func(ranges string) []byte {
		return []byte(`<domain type='lxc'><name>s</name><memory>65536</memory>
  <os><type>exe</type><init>/sbin/init</init></os>
  <idmap>` + ranges + `</idmap>
</domain>`)
	}
	std := `<gid start='0' target='200000' count='65536'/>`
	tests := []struct {
		name, ranges string
		errPath      string // "" = valid
		warnPath     string
	}{
		{"regular", `<uid start='0' target='200000' count='65536'/>` + std, "", ""},
		{"uid target 0", `<uid start='0' target='0' count='65536'/>` + std, "/domain/idmap/uid/@target", ""},
		{"gid target 0", `<uid start='0' target='200000' count='65536'/><gid start='0' target='0' count='1'/>`, "/domain/idmap/gid/@target", ""},
		{"second range reaches 0", `<uid start='0' target='200000' count='1000'/><uid start='1000' target='0' count='10'/>` + std,
			"/domain/idmap/uid[2]/@target", ""},
		{"system ids", `<uid start='0' target='500' count='65536'/>` + std, "", "/domain/idmap/uid/@target"},
		{"from 1000", `<uid start='0' target='1000' count='65536'/>` + std, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, warns, err := Parse("x.xml", doc(tc.ranges))
			switch {
			case tc.errPath == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.errPath != "" && (err == nil || !strings.Contains(err.Error(), tc.errPath) || !strings.Contains(err.Error(), "the host's root")):
				t.Fatalf("err = %v, want one at %s about the host's root", err, tc.errPath)
			}
			var got []string
			for _, w := range warns {
				if strings.Contains(w.Msg, "system ids") {
					got = append(got, w.Path)
				}
			}
			if (tc.warnPath == "") != (len(got) == 0) || (tc.warnPath != "" && got[0] != tc.warnPath) {
				t.Errorf("system-id warnings at %v, want %q", got, tc.warnPath)
			}
		})
	}
}
