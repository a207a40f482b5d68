package domain

import "testing"

// TestParseCanonicalUUID: Parse stores the UUID in the one canonical form,
// whatever spelling the XML has, so a transient guest, its plan, state and
// dumpxml agree with what define stores for the same XML.
func TestParseCanonicalUUID(t *testing.T) {
	for _, in := range []string{"8369F1AC7E46E8694CA5759D51478066", "8369f1ac7e46e8694ca5759d51478066", "8369F1AC-7E46-E869-4CA5-759D51478066"} {
		doc := `<domain type='lxc'><name>u</name><uuid>` + in + `</uuid><memory>1024</memory>
  <os><type>exe</type><init>/bin/sh</init></os></domain>`
		d, _, err := Parse("u.xml", []byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if want := "8369f1ac-7e46-e869-4ca5-759d51478066"; d.XML.UUID != want {
			t.Errorf("uuid %s parses as %q, want %q", in, d.XML.UUID, want)
		}
	}
}
