package service

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// TestEdit: Edit is Define for a defined guest that keeps its name: the
// definition is replaced and a "defined updated" event goes to the sink
// (a vmlite serve client hears of a vmlite edit); an edit that renames, an
// unknown guest or invalid XML changes nothing and says nothing.
func TestEdit(t *testing.T) {
	s, _, rec, xml := newTest(t)
	ctx := context.Background()
	if _, err := s.Define(ctx, "a.xml", xml("a", "")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.layout.DomainFile("a"))
	rec.events = nil
	edited := bytes.Replace(xml("a", ""), []byte("<memory>65536</memory>"), []byte("<memory>131072</memory>"), 1)
	res, err := s.Edit(ctx, "a", "edit.xml", edited)
	if err != nil || !res.Replaced || res.Name != "a" {
		t.Fatalf("Edit: %+v, %v", res, err)
	}
	if got := rec.String(); got != "a defined updated" {
		t.Errorf("events %q, want one defined/updated", got)
	}
	after, _ := os.ReadFile(s.layout.DomainFile("a"))
	if bytes.Equal(before, after) || !bytes.Contains(after, []byte("131072")) {
		t.Errorf("the definition is not the edited one:\n%s", after)
	}
	rec.events = nil
	for _, tc := range []struct {
		name, guest string
		data        []byte
		want        Code
	}{
		{"rename", "a", xml("b", ""), InvalidArg},
		{"unknown guest", "nosuch", xml("nosuch", ""), NoDomain},
		{"invalid XML", "a", []byte("<domain type='lxc'><name>a</name><memory>lots</memory></domain>"), XMLError},
		{"bad name", "../a", xml("a", ""), InvalidArg},
	} {
		if _, err := s.Edit(ctx, tc.guest, "edit.xml", tc.data); CodeOf(err) != tc.want {
			t.Errorf("%s: %v (code %v), want %v", tc.name, err, CodeOf(err), tc.want)
		}
	}
	if now, _ := os.ReadFile(s.layout.DomainFile("a")); !bytes.Equal(now, after) || rec.String() != "" {
		t.Errorf("a refused edit changed the definition or sent %q", rec.String())
	}
	if _, err := os.Stat(s.layout.DomainFile("b")); err == nil {
		t.Error("the renaming edit defined b")
	}
}
