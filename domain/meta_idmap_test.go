package domain

import (
	"strings"
	"testing"
)

// TestMetaIDMapShift: <vmlite:idmap shift=...> is read, validated and
// written back.
func TestMetaIDMapShift(t *testing.T) {
	doc := func(attrs string) []byte {
		return []byte(`<domain type='lxc'><name>s</name><memory>65536</memory>
  <metadata><vmlite:config xmlns:vmlite="urn:vmlite:domain:1"><vmlite:idmap ` + attrs + `/></vmlite:config></metadata>
  <os><type>exe</type><init>/sbin/init</init></os>
  <idmap><uid start='0' target='100000' count='65536'/><gid start='0' target='100000' count='65536'/></idmap>
</domain>`)
	}
	for _, tc := range []struct {
		attrs        string
		chown, allow bool
		bad          bool
	}{
		{attrs: `shift="chown"`, chown: true},
		{attrs: `shift="auto" allowOverlap="yes"`, allow: true},
		{attrs: `shift="chown" allowOverlap="yes"`, chown: true, allow: true},
		{attrs: `shift="copy"`, bad: true},
	} {
		t.Run(tc.attrs, func(t *testing.T) {
			d, _, err := Parse("x.xml", doc(tc.attrs))
			if tc.bad {
				if err == nil || !strings.Contains(err.Error(), "shift") {
					t.Fatalf("Parse accepted %s (err %v)", tc.attrs, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Meta.IDMapChown != tc.chown || d.Meta.AllowIDMapOverlap != tc.allow {
				t.Fatalf("meta %+v", d.Meta)
			}
			out, err := d.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			d2, _, err := Parse("y.xml", out)
			if err != nil {
				t.Fatalf("reparse: %v\n%s", err, out)
			}
			if d2.Meta != d.Meta {
				t.Errorf("round trip: %+v, want %+v", d2.Meta, d.Meta)
			}
		})
	}
}
