package domain

import (
	"errors"
	"os"
	"reflect"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// TestIdentities: the light read of every definition gives what a full
// Load gives (uuid, id map), for stored definitions and for hand-edited
// ones (an XML declaration, another charset: those get a full Load); one
// Load refuses is left out; Save finds a uuid clash in either.
func TestIdentities(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	s := NewStore(l)
	const (
		u1 = "8369f1ac-7e46-e869-4ca5-759d51478066"
		u2 = "11111111-2222-4333-8444-555555555555"
		u3 = "22222222-2222-4333-8444-555555555555"
	)
	mapped := "<domain type='lxc'><name>mapped</name><uuid>" + u2 + "</uuid><os><type>exe</type><init>/sbin/init</init></os>" +
		"<idmap><uid start='0' target='300000' count='65536'/><gid start='0' target='300000' count='65536'/></idmap></domain>"
	for _, x := range []string{guestXML("plain", u1), mapped} {
		if err := s.Save(mustParse(t, x)); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"plain", "mapped"} {
		if b, err := os.ReadFile(l.DomainFile(n)); err != nil {
			t.Fatal(err)
		} else if _, ok := storedIdentity(n, b); !ok {
			t.Errorf("%s as Save stored it does not read by the byte search:\n%s", n, b)
		}
	}
	hand := "<?xml version='1.0' encoding='ISO-8859-1'?>\n<domain type='lxc'><name>hand</name><uuid>" + u3 +
		"</uuid><description>caf\xe9</description><os><type>exe</type><init>/sbin/init</init></os></domain>"
	for name, body := range map[string]string{"hand": hand, "broken": "<domain type='lxc'><name>broken</nam"} {
		if err := os.WriteFile(l.DomainFile(name), []byte(body), DefinitionMode); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := s.Identities()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, id := range ids {
		names = append(names, id.Name)
		d, err := s.Load(id.Name)
		if err != nil {
			t.Errorf("%s: listed, but Load refuses it: %v", id.Name, err)
			continue
		}
		if id.UUID != d.XML.UUID || !reflect.DeepEqual(id.IDMap, d.XML.IDMap) {
			t.Errorf("%s: identity %+v, Load says uuid %s, idmap %+v", id.Name, id, d.XML.UUID, d.XML.IDMap)
		}
	}
	if want := []string{"hand", "mapped", "plain"}; !reflect.DeepEqual(names, want) {
		t.Errorf("identities of %v, want %v", names, want)
	}
	// The id maps FreeTarget keeps clear: the mapped guest's alone.
	r := []plan.IDRange{{Start: 0, Target: 300000, Count: 65536}}
	if maps, err := s.IDMaps(); err != nil || !reflect.DeepEqual(maps, []plan.IDMap{{UIDs: r, GIDs: r}}) {
		t.Errorf("IDMaps = %+v, %v; want the mapped guest's", maps, err)
	}
	// One at a time, as a lookup reads it.
	for _, want := range ids {
		if id, err := s.Identity(want.Name); err != nil || !reflect.DeepEqual(id, want) {
			t.Errorf("Identity(%s) = %+v, %v; want %+v", want.Name, id, err, want)
		}
	}
	if _, err := s.Identity("nosuch"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Identity of no definition: %v, want ErrNotFound", err)
	}
	if _, err := s.Identity("broken"); err == nil {
		t.Error("Identity of a definition Load refuses: no error")
	}
	for _, u := range []string{u1, u2, u3} {
		if err := s.Save(mustParse(t, guestXML("new", u))); !errors.Is(err, errdefs.ErrAlreadyExists) {
			t.Errorf("Save with the uuid %s of another guest: %v, want ErrAlreadyExists", u, err)
		}
	}
}

// FuzzStoredIdentity: whatever the byte search reads is what encoding/xml
// reads from the same definition.
func FuzzStoredIdentity(f *testing.F) {
	d, _, err := Parse("seed", []byte("<domain type='lxc'><name>web</name><uuid>8369f1ac-7e46-e869-4ca5-759d51478066</uuid><os><type>exe</type><init>/sbin/init</init></os>"+
		"<idmap><uid start='0' target='300000' count='65536'/><gid start='0' target='300000' count='65536'/></idmap>"+
		"<description>a line\n  &lt;idmap&gt; in text</description><devices><filesystem type='mount'><source dir='/srv/web'/><target dir='/'/></filesystem></devices></domain>"))
	if err != nil {
		f.Fatal(err)
	}
	b, err := d.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("<domain type=\"lxc\">\n  <name>web</name>\n  <uuid>8369f1ac-7e46-e869-4ca5-759d51478066</uuid>\n  <idmap>\n  </idmap>\n</domain>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := storedIdentity("web", b)
		if !ok {
			return
		}
		want, ok := xmlIdentity("web", b)
		if !ok {
			return // not a document at all: Load refuses it too
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("byte search %+v, encoding/xml %+v", got, want)
		}
	})
}
