package launch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/plan"
)

func TestPlanUUID(t *testing.T) {
	full, err := (&plan.Plan{Version: plan.Version, Name: "web1", UUID: "0f3a4b5c-0000-4000-8000-000000000001",
		Share: []plan.SharedNamespace{{Kind: "net", Path: "/proc/1/ns/net"}}, DomainXML: strings.Repeat("<x/>", 2000)}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, data, want string
		wantErr          bool
	}{
		{"a real plan", string(full), "0f3a4b5c-0000-4000-8000-000000000001", false},
		{"uuid after nested values", `{"a":{"uuid":"inner"},"b":[1,{"c":2}],"uuid":"outer","z":1}`, "outer", false},
		{"cut after the uuid", `{"version":1,"uuid":"u1","domainXml":"<dom`, "u1", false},
		{"no uuid", `{"version":1,"name":"x"}`, "", true},
		{"not an object", `["uuid","x"]`, "", true},
		{"empty", ``, "", true},
		{"uuid not a string", `{"uuid":7}`, "", true},
		{"cut before the uuid", `{"version":1,"name":"x`, "", true},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "plan"+string(rune('a'+i))+".json")
			if err := os.WriteFile(path, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := planUUID(path)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("planUUID = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := planUUID(filepath.Join(dir, "missing.json")); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v, want not-exist", err)
	}
}

// FuzzPlanUUID: planUUID never panics, and on a well-formed object whose
// top-level keys are unique it agrees with a full decode.
func FuzzPlanUUID(f *testing.F) {
	f.Add(`{"version":1,"name":"a","uuid":"u"}`)
	f.Add(`{"uuid":"x","uuid":"y"}`)
	f.Add(`{"a":[{"uuid":1}],"uuid":"\u0041"}`)
	dir := f.TempDir()
	path := filepath.Join(dir, "plan.json")
	f.Fuzz(func(t *testing.T, data string) {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := planUUID(path)
		var keys map[string]json.RawMessage
		var whole struct {
			UUID *string `json:"uuid"`
		}
		if json.Unmarshal([]byte(data), &keys) != nil || json.Unmarshal([]byte(data), &whole) != nil || whole.UUID == nil || !uniqueKeys(data) {
			return
		}
		if err != nil || got != *whole.UUID {
			t.Fatalf("%q: planUUID = %q, %v; a full decode says %q", data, got, err, *whole.UUID)
		}
	})
}

// uniqueKeys reports whether data's top-level object repeats no key (in
// any case).
func uniqueKeys(data string) bool {
	dec := json.NewDecoder(strings.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		k, _ := t.(string)
		k = strings.ToLower(k) // encoding/json matches fields in any case
		if seen[k] {
			return false
		}
		seen[k] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return true
}
