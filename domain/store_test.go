package domain

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/state"
)

func mustParse(t *testing.T, xml string) *Domain {
	t.Helper()
	d, _, err := Parse("test", []byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func guestXML(name, uuid string) string {
	u := ""
	if uuid != "" {
		u = "<uuid>" + uuid + "</uuid>"
	}
	return "<domain type='lxc'><name>" + name + "</name>" + u + "<os><type>exe</type><init>/sbin/init</init></os></domain>"
}

func TestStore(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	s := NewStore(l)

	if names, err := s.List(); err != nil || len(names) != 0 {
		t.Fatalf("empty store: %v %v", names, err)
	}
	if _, err := s.Load("nope"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("load unknown: %v", err)
	}

	// A definition without uuid gets a random one, kept on redefinition.
	a := mustParse(t, guestXML("a", ""))
	if err := s.Save(a); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseUUID(a.XML.UUID); err != nil {
		t.Fatalf("assigned uuid %q: %v", a.XML.UUID, err)
	}
	first := a.XML.UUID
	a2 := mustParse(t, guestXML("a", ""))
	a2.Meta.PidsMax = 10
	if err := s.Save(a2); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("a")
	if err != nil {
		t.Fatal(err)
	}
	if got.XML.UUID != first || got.Meta.PidsMax != 10 {
		t.Errorf("redefined: uuid %s (want %s) pids %d", got.XML.UUID, first, got.Meta.PidsMax)
	}

	// Another name with the same uuid is refused, in any spelling.
	dup := mustParse(t, guestXML("b", strings.ToUpper(strings.ReplaceAll(first, "-", ""))))
	if err := s.Save(dup); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate uuid: %v", err)
	}
	b := mustParse(t, guestXML("b", "8369f1ac-7e46-e869-4ca5-759d51478066"))
	if err := s.Save(b); err != nil {
		t.Fatal(err)
	}
	if names, _ := s.List(); !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Errorf("list %v", names)
	}
	// Stray files are not definitions.
	if err := os.WriteFile(l.DomainsDir()+"/.b.xml.tmp1", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if names, _ := s.List(); len(names) != 2 {
		t.Errorf("list with temp file %v", names)
	}

	// A Domain edited into something invalid is not stored.
	bad := mustParse(t, guestXML("c", ""))
	bad.XML.OS.Init = "relative"
	if err := s.Save(bad); !errdefs.IsUserError(err) {
		t.Errorf("invalid domain saved: %v", err)
	}
	if _, err := os.Stat(l.DomainFile("c")); err == nil {
		t.Error("invalid definition stored")
	}

	if err := s.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("a"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.Load("../etc/passwd"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("path in name: %v", err)
	}
}
