package domain

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// testSchema is a small document kind for the exported engine: <doc> with
// a repeated <item n='...'>, an enumerated mode and a rejected <old>.
var testSchema = Element("doc", Applied, "a test document", Strict(), Requires("name", "a doc needs a <name>"), Children(
	Element("name", Applied, "its name", Text(nil)),
	Element("item", Applied, "an item", Repeated(), Strict(), Attributes(
		Attribute("n", Applied, "a number", func(s string) error {
			if s == "" || strings.Trim(s, "0123456789") != "" {
				return errors.New("not a number")
			}
			return nil
		}),
		EnumAttribute("mode", "how", false, Value("a", Applied, "a", ""), Value("b", Rejected, "mode b", "use a")),
	)),
	RejectedElement("old", "the old form", "remove it"),
))

// TestCheckXML: the engine on another document kind reports the same
// FILE:LINE: /xpath errors as domain XML, and Document.Line finds the
// line of elements and attributes for later value errors.
func TestCheckXML(t *testing.T) {
	for _, tc := range []struct {
		name, xml string
		want      []string
	}{
		{"good", "<doc><name>x</name><item n='1'/><item n='2' mode='a'/></doc>", nil},
		{"root", "<other/>", []string{"t.xml:1: /other: the top-level element must be <doc>, not <other>"}},
		{"syntax", "<doc>", []string{"t.xml:1: XML syntax error"}},
		{"all at once", "<doc>\n<item n='x'/>\n<item\n mode='b'/>\n<old/>\n<new/>\n<name>a</name><name>b</name></doc>", []string{
			"t.xml:2: /doc/item[1]/@n: not a number (got \"x\")",
			"t.xml:4: /doc/item[2]/@mode: not supported by vmlite: mode b",
			"t.xml:5: /doc/old: not supported by vmlite: the old form",
			"t.xml:6: /doc/new: unknown element <new> in <doc>",
			"t.xml:7: /doc/name[2]: <name> appears more than once",
		}},
		{"required", "<doc><item nn='1'/></doc>", []string{"/doc/item/@nn: unknown attribute nn of <item>; fix: did you mean n=?", "/doc/name: a doc needs a <name>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, errs := CheckXML("t.xml", []byte(tc.xml), testSchema)
			if len(errs) != len(tc.want) {
				t.Fatalf("errors %v, want %d: %q", errs, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(errs[i].Error(), w) && !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d %q, want %q", i, errs[i], w)
				}
			}
		})
	}
	d, _, errs := CheckXML("t.xml", []byte("<doc>\n<name>x</name>\n<item n='1'/>\n<item\n  n='2'/>\n</doc>"), testSchema)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for path, line := range map[string]int{"/doc": 1, "/doc/item[1]": 3, "/doc/item[2]": 4, "/doc/item[2]/@n": 5, "/doc/nope": 0} {
		if got := d.Line(path); got != line {
			t.Errorf("Line(%s) = %d, want %d", path, got, line)
		}
	}
	if e := d.Errorf("/doc/item[2]/@n", "2", "too big"); e.Error() != `t.xml:5: /doc/item[2]/@n: too big (got "2")` {
		t.Errorf("Errorf: %s", e)
	}
}

// FuzzCheckXML: the engine never panics on a document of another kind,
// every error names its file, and a checked document is UTF-8 and knows
// the line of each element it holds.
func FuzzCheckXML(f *testing.F) {
	f.Add("<doc><name>x</name><item n='1'/><item n='2' mode='a'/></doc>")
	f.Add("<doc>\n<item n='x'/>\n<item\n mode='b'/>\n<old/>\n<new/>\n</doc>")
	f.Add("<doc xmlns:o='urn:o'><o:x/><item o:n='1'/></doc>")
	f.Fuzz(func(t *testing.T, s string) {
		d, _, errs := CheckXML("f.xml", []byte(s), testSchema)
		for _, e := range errs {
			if e.File != "f.xml" || e.Msg == "" {
				t.Fatalf("error %+v", e)
			}
		}
		if d == nil {
			return
		}
		for path, n := range d.nodes {
			if got := d.Line(path); got != n.line || got < 1 {
				t.Fatalf("Line(%s) = %d, node at %d", path, got, n.line)
			}
		}
		if !utf8.Valid(d.Data()) {
			t.Fatalf("Data is not UTF-8: %q", d.Data())
		}
	})
}
