package domain

import (
	"strings"
	"testing"
)

// TestMetaProcFS: <vmlite:procfs state=...> is read, validated and written
// back; the server is on by default.
func TestMetaProcFS(t *testing.T) {
	doc := func(el string) []byte {
		return []byte(`<domain type='lxc'><name>s</name><memory>65536</memory>
  <metadata><vmlite:config xmlns:vmlite="urn:vmlite:domain:1">` + el + `<vmlite:hostname>h</vmlite:hostname></vmlite:config></metadata>
  <os><type>exe</type><init>/sbin/init</init></os>
</domain>`)
	}
	for _, tc := range []struct {
		el  string
		off bool
		bad string
	}{
		{el: ``},
		{el: `<vmlite:procfs state="on"/>`},
		{el: `<vmlite:procfs state="off"/>`, off: true},
		{el: `<vmlite:procfs state="maybe"/>`, bad: "state"},
		{el: `<vmlite:procfs/>`, bad: "state"},
	} {
		t.Run(tc.el, func(t *testing.T) {
			d, _, err := Parse("x.xml", doc(tc.el))
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) || !strings.Contains(err.Error(), "x.xml:2") {
					t.Fatalf("Parse accepted %s (err %v)", tc.el, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Meta.NoProcFS != tc.off {
				t.Fatalf("meta %+v", d.Meta)
			}
			out, err := d.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			d2, _, err := Parse("y.xml", out)
			if err != nil || d2.Meta != d.Meta {
				t.Fatalf("round trip: %+v, %v, want %+v\n%s", d2.Meta, err, d.Meta, out)
			}
		})
	}
}
