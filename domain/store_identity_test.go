package domain

import (
	"errors"
	"os"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/state"
)

// TestStoreIdentityAndMode: redefining a name with another uuid is refused
// (as libvirt); the same uuid in another spelling, or none, is the same
// guest; definitions are stored 0600, an older 0644 one too on its next
// write.
func TestStoreIdentityAndMode(t *testing.T) {
	l := state.NewLayout(t.TempDir())
	s := NewStore(l)
	const u = "8369f1ac-7e46-e869-4ca5-759d51478066"
	if err := s.Save(mustParse(t, guestXML("web", u))); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(l.DomainFile("web"), 0o644); err != nil { // as older versions stored it
		t.Fatal(err)
	}
	tests := []struct {
		name, uuid string
		wantErr    error
	}{
		{"same uuid", u, nil},
		{"same uuid, upper case, no dashes", "8369F1AC7E46E8694CA5759D51478066", nil},
		{"no uuid", "", nil},
		{"another uuid", "11111111-2222-3333-4444-555555555555", errdefs.ErrAlreadyExists},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Save(mustParse(t, guestXML("web", tc.uuid)))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Save = %v, want %v", err, tc.wantErr)
			}
			got, err := s.Load("web")
			if err != nil || got.XML.UUID != u {
				t.Fatalf("stored uuid %v (%v), want %s kept", got, err, u)
			}
			fi, err := os.Stat(l.DomainFile("web"))
			if err != nil || fi.Mode().Perm() != DefinitionMode {
				t.Errorf("definition mode %v (%v), want %v", fi.Mode().Perm(), err, os.FileMode(DefinitionMode))
			}
		})
	}
}
