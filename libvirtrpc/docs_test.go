package libvirtrpc

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestDocsListEveryProcedure keeps docs/libvirt-api.md in step with the
// server: every procedure it answers has its number in the Procedures
// section after its name (`DOMAIN_GET_STATE 212`, `... / BY_UUID 24`),
// and none of those is also listed as answered "not supported", but for
// the ones registered only to say why they are not (noSupportReasons).
func TestDocsListEveryProcedure(t *testing.T) {
	b, err := os.ReadFile("../docs/libvirt-api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start, end := strings.Index(doc, "## Procedures"), strings.Index(doc, "## What each client can do")
	if start < 0 || end < start {
		t.Fatal("docs/libvirt-api.md: no Procedures section before What each client can do")
	}
	procs := doc[start:end]
	noSupport := procs[strings.Index(procs, "### Answered \"not supported\""):]
	var nums []int
	for n := range handlers {
		nums = append(nums, int(n))
	}
	sort.Ints(nums)
	for _, n := range nums {
		re := regexp.MustCompile(fmt.Sprintf(`\b[A-Z][A-Z_]* %d\b`, n))
		if !re.MatchString(procs) {
			t.Errorf("procedure %d is answered but not in the Procedures of docs/libvirt-api.md", n)
		} else if re.MatchString(noSupport) != noSupportReasons[int32(n)] {
			t.Errorf("procedure %d: listed as not supported %v, answering NO_SUPPORT %v", n, re.MatchString(noSupport), noSupportReasons[int32(n)])
		}
	}
}

// noSupportReasons are the procedures registered to answer NO_SUPPORT
// with the reason, which the docs list under "not supported".
var noSupportReasons = map[int32]bool{procDomainGetVcpus: true}
