package netdef

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/state"
)

func TestStore(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	if ns, err := List(l); err != nil || len(ns) != 0 {
		t.Fatalf("List of nothing: %v %v", ns, err)
	}
	n, err := Define(l, "d.xml", []byte(defaultXML))
	if err != nil {
		t.Fatalf("Define: %v", err)
	}
	// Redefining without UUID and MAC keeps both.
	n2, err := Define(l, "d.xml", []byte(defaultXML))
	if err != nil || n2.UUID != n.UUID || n2.MAC.String() != n.MAC.String() {
		t.Errorf("redefine: %v; UUID %s->%s MAC %s->%s", err, n.UUID, n2.UUID, n.MAC, n2.MAC)
	}
	conflicts := []struct{ name, xml string }{
		{"same name, other UUID", `<network><name>default</name><uuid>11111111-2222-3333-4444-555555555555</uuid></network>`},
		{"other name, same UUID", fmt.Sprintf(`<network><name>other</name><uuid>%s</uuid></network>`, n.UUID)},
		{"other name, same bridge", `<network><name>other</name><bridge name='virbr0'/></network>`},
	}
	for _, c := range conflicts {
		if _, err := Define(l, "c.xml", []byte(c.xml)); !errors.Is(err, errdefs.ErrAlreadyExists) {
			t.Errorf("%s: %v, want ErrAlreadyExists", c.name, err)
		}
	}
	if _, err := Define(l, "o.xml", []byte(`<network><name>other</name></network>`)); err != nil {
		t.Fatal(err)
	}
	ns, err := List(l)
	if err != nil || len(ns) != 2 || ns[0].Name != "default" || ns[1].Name != "other" {
		t.Fatalf("List: %v %v", ns, err)
	}
	got, err := Load(l, "default")
	if err != nil || got.UUID != n.UUID || got.Bridge != "virbr0" {
		t.Errorf("Load: %+v %v", got, err)
	}
	if _, err := Load(l, "nope"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Load of an unknown network: %v, want ErrNotFound", err)
	}
	if _, err := Load(l, "../x"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("Load of a bad name: %v, want ErrInvalid", err)
	}

	if Autostart(l, "default") {
		t.Errorf("autostart before net-autostart")
	}
	if err := SetAutostart(l, "default", true); err != nil || !Autostart(l, "default") {
		t.Errorf("SetAutostart on: %v", err)
	}
	if err := SetAutostart(l, "default", false); err != nil || Autostart(l, "default") {
		t.Errorf("SetAutostart off: %v", err)
	}
	if err := SetAutostart(l, "nope", true); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("SetAutostart of an unknown network: %v", err)
	}

	// An active network (runtime state present) undefined runs on as a
	// transient one, with its definition and address records in its
	// runtime directory (a network started before Start wrote its
	// definition there: the stored one is kept).
	if err := os.MkdirAll(RunDir(l, "other"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := (&runState{Name: "other"}).write(l); err != nil {
		t.Fatal(err)
	}
	if !Active(l, "other") {
		t.Errorf("Active false with a state file")
	}
	if err := os.WriteFile(allocFile(l, "other"), []byte(`{"entries":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := Load(l, "other")
	if err := Undefine(l, "other"); err != nil {
		t.Fatalf("Undefine of an active network: %v", err)
	}
	if n, err := Load(l, "other"); err != nil || !n.Transient || n.UUID != before.UUID {
		t.Errorf("an active network after Undefine: %+v, %v; want it transient, same UUID", n, err)
	}
	for _, p := range []string{defFile(l, "other"), allocFile(l, "other")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left after undefine", p)
		}
	}
	if _, err := os.Stat(transientAllocFile(l, "other")); err != nil {
		t.Errorf("address records not kept in the runtime directory: %v", err)
	}
	if err := Undefine(l, "other"); !errors.Is(err, ErrTransient) {
		t.Errorf("second Undefine of the running network: %v, want ErrTransient", err)
	}
	if err := SetAutostart(l, "default", true); err != nil {
		t.Fatal(err)
	}
	if err := Undefine(l, "default"); err != nil {
		t.Fatalf("Undefine: %v", err)
	}
	for _, p := range []string{defFile(l, "default"), autostartFile(l, "default")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left after undefine", p)
		}
	}
	if err := Undefine(l, "default"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("second Undefine: %v, want ErrNotFound", err)
	}
}
