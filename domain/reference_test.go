package domain

import (
	"os"
	"strings"
	"testing"
)

const docPath = "../docs/xml-reference.md"

const (
	beginTable = "<!-- BEGIN GENERATED: go test ./domain -run TestReferenceDoc -update -->\n"
	endTable   = "<!-- END GENERATED -->\n"
)

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReferenceDoc: the class table in docs/xml-reference.md is the one in
// code, so documentation and behaviour cannot drift.
func TestReferenceDoc(t *testing.T) {
	doc := readDoc(t)
	i, j := strings.Index(doc, beginTable), strings.Index(doc, endTable)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated-table markers", docPath)
	}
	want := doc[:i+len(beginTable)] + ReferenceMarkdown() + doc[j:]
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s is out of date: run go test ./domain -run TestReferenceDoc -update", docPath)
	}
	for _, r := range Reference() {
		if r.Class == Rejected && !strings.Contains(doc, "| `"+r.Path+"` | rejected |") {
			t.Errorf("rejected %s is not in the reference", r.Path)
		}
	}
}

// TestReferenceUnique: one row per path, each in exactly one class.
func TestReferenceUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reference() {
		if seen[r.Path] {
			t.Errorf("%s appears twice in the class table", r.Path)
		}
		seen[r.Path] = true
		if r.Class < Applied || r.Class > Rejected {
			t.Errorf("%s has no class", r.Path)
		}
		if r.Class == Rejected && r.Doc == "" {
			t.Errorf("%s is rejected without a reason", r.Path)
		}
	}
}
