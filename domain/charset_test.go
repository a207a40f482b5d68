package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestToUTF8(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{"no declaration", "<domain/>", "<domain/>", ""},
		{"utf-8", `<?xml version="1.0" encoding="UTF-8"?><a>é</a>`, `<?xml version="1.0" encoding="UTF-8"?><a>é</a>`, ""},
		{"latin1", "<?xml version='1.0' encoding='ISO-8859-1'?>\n<a>caf\xe9</a>", "<?xml version='1.0' encoding='UTF-8'?>\n<a>café</a>", ""},
		{"latin1 alias", `<?xml version="1.0" encoding="latin1"?><a/>`, `<?xml version="1.0" encoding="UTF-8"?><a/>`, ""},
		{"ascii", `<?xml version="1.0" encoding="US-ASCII"?><a/>`, `<?xml version="1.0" encoding="UTF-8"?><a/>`, ""},
		{"ascii with a high byte", "<?xml version=\"1.0\" encoding=\"us-ascii\"?>\n\n<a>\xe9</a>", "", "above 127"},
		{"other", `<?xml version="1.0" encoding="UTF-16"?><a/>`, "", "iconv -f UTF-16 -t UTF-8"},
		{"not at the start", ` <?xml version="1.0" encoding="EBCDIC"?>`, ` <?xml version="1.0" encoding="EBCDIC"?>`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ferr := toUTF8("x.xml", []byte(tc.in))
			if tc.err != "" {
				if ferr == nil || !strings.Contains(ferr.Error(), tc.err) {
					t.Fatalf("err = %v, want one mentioning %q", ferr, tc.err)
				}
				return
			}
			if ferr != nil || string(got) != tc.want {
				t.Fatalf("toUTF8 = %q, %v; want %q", got, ferr, tc.want)
			}
		})
	}
}

// TestParseLatin1: a domain declared ISO-8859-1 parses, its text decoded.
func TestParseLatin1(t *testing.T) {
	doc := "<?xml version='1.0' encoding='ISO-8859-1'?>\n<domain type='lxc'><name>s</name><description>caf\xe9</description><memory>65536</memory><os><type>exe</type><init>/sbin/init</init></os></domain>"
	d, _, err := Parse("x.xml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if d.XML.Description != "café" {
		t.Errorf("description %q, want café", d.XML.Description)
	}
	if _, _, err := Parse("y.xml", []byte(strings.Replace(doc, "ISO-8859-1", "KOI8-R", 1))); err == nil || !strings.Contains(err.Error(), "UTF-8") || strings.Contains(err.Error(), "CharsetReader") {
		t.Errorf("an unsupported encoding: %v", err)
	}
}

func FuzzToUTF8(f *testing.F) {
	f.Add([]byte("<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe9</a>"))
	f.Add([]byte(`<?xml version="1.0" encoding="us-ascii"?><a/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ferr := toUTF8("f.xml", b)
		if ferr != nil {
			return
		}
		if xmlDeclRe.Re().Match(b) && !utf8.Valid(out) && utf8.Valid(b) {
			t.Fatalf("valid input became invalid UTF-8: %q -> %q", b, out)
		}
	})
}
