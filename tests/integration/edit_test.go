//go:build integration

package integration

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestEditRunning: vmlite edit of a running guest's definition goes
// through define (service.Define): the stored definition changes, the
// running guest keeps the one it started with until it restarts; an edit
// to invalid XML names the file and line and changes nothing; an edit
// that takes another guest's name or uuid is refused and changes nothing.
func TestEditRunning(t *testing.T) {
	h := newHarness(t)
	name, other := h.uniqueName("it-edit"), h.uniqueName("it-edit2")
	xml, _ := h.busybox(name, false)
	h.must("define", xml)
	xml2, _ := h.busybox(other, false)
	h.must("define", xml2)
	h.must("start", name)
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	before := h.must("dumpxml", "--inactive", name).stdout

	h.env = []string{"VISUAL=", "EDITOR=sed -i 's|<memory unit=.KiB.>[0-9]*</memory>|<memory unit=\"MiB\">96</memory>|; s|<currentMemory[^>]*>[0-9]*</currentMemory>||'"}
	if r := h.must("edit", name); !strings.Contains(r.stdout, "edited") {
		t.Fatalf("edit: %v", r)
	}
	if x := h.must("dumpxml", "--inactive", name).stdout; x == before || !strings.Contains(x, "98304") {
		t.Errorf("the stored definition is not the edited one:\n%s", x)
	}
	if st := h.status(name); st.State != "running" {
		t.Errorf("editing the definition changed the running guest: %+v", st)
	}
	if x := h.must("dumpxml", name).stdout; strings.Contains(x, "98304") {
		t.Errorf("the running guest's XML shows the edit before a restart:\n%s", x)
	}

	stored := func(n string) string { return h.must("dumpxml", "--inactive", n).stdout }
	was, wasOther := stored(name), stored(other)
	uuidOther := regexp.MustCompile(`<uuid>([^<]+)</uuid>`).FindStringSubmatch(wasOther)[1]
	for _, tc := range []struct {
		name, sed string
		want      []string
	}{
		{"invalid", `s|<init>|<innit>|; s|</init>|</innit>|`, []string{".xml:", ": /domain/os/innit", "did you mean <init>", "unchanged"}},
		{"rename onto another guest", `s|<name>` + name + `</name>|<name>` + other + `</name>|`, []string{"renames guest", "unchanged"}},
		// A guest keeps its uuid (define refuses a new one for a name).
		{"another guest's uuid", `s|<uuid>[^<]*</uuid>|<uuid>` + uuidOther + `</uuid>|`, []string{"already defined with uuid", "unchanged"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.env = []string{"VISUAL=", "EDITOR=sed -i '" + tc.sed + "'"}
			r := h.run("edit", name)
			if r.code != 2 {
				t.Fatalf("edit: %v, want exit 2", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("edit says %q, want %q in it", r.stderr, w)
				}
			}
			if m := regexp.MustCompile(`kept in (\S+\.xml)`).FindStringSubmatch(r.stderr); m != nil {
				if tc.name == "invalid" && !regexp.MustCompile(regexp.QuoteMeta(m[1])+`:\d+: `).MatchString(r.stderr) {
					t.Errorf("the error does not name the kept file and its line: %s", r.stderr)
				}
				os.RemoveAll(strings.TrimSuffix(m[1], "/"+name+".xml"))
			} else {
				t.Errorf("the kept file is not named: %s", r.stderr)
			}
			if stored(name) != was || stored(other) != wasOther {
				t.Errorf("a refused edit changed a definition")
			}
		})
	}
	h.must("destroy", name)
}
