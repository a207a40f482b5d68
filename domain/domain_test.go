package domain

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files (testdata/invalid/*.err, docs/xml-reference.md table)")

// libvirtData is libvirt's test data (testutil.LibvirtDataEnv moves it).
var libvirtData, _ = testutil.LibvirtDataDir()

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// libvirtFiles returns libvirt's LXC test XML, skipping loudly when the
// shared testdata is not there.
func libvirtFiles(t *testing.T) []string {
	t.Helper()
	files := glob(t, filepath.Join(testutil.LibvirtData(t), "lxcxml2xmldata", "*.xml"))
	if len(files) == 0 {
		t.Fatalf("no lxcxml2xmldata/*.xml in %s", libvirtData)
	}
	return files
}

func asErrors(t *testing.T, err error) Errors {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is not domain.Errors: %T %v", err, err)
	}
	return es
}

// TestLibvirtTestdata: every LXC file of libvirt's test suite parses, and is
// either valid or fails only with documented "not supported" errors.
func TestLibvirtTestdata(t *testing.T) {
	doc := readDoc(t)
	rows := map[string]RefRow{}
	for _, r := range Reference() {
		rows[r.Path] = r
	}
	files := libvirtFiles(t)
	files = append(files, glob(t, filepath.Join(libvirtData, "lxcconf2xmldata", "*.xml"))...)
	files = append(files, glob(t, filepath.Join(libvirtData, "lxcxml2xmloutdata", "*.xml"))...)
	valid := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, _, err := ParseFile(f)
			if err == nil {
				valid++
				return
			}
			for _, e := range asErrors(t, err) {
				if !strings.HasPrefix(e.Msg, "not supported by vmlite: ") {
					t.Errorf("not a 'not supported' error: %v", e)
					continue
				}
				key := ReferenceKey(e)
				if r, ok := rows[key]; !ok || r.Class != Rejected {
					t.Errorf("%s is rejected but not a rejected row of the class table: %v", key, e)
				}
				if !strings.Contains(doc, "| `"+key+"` | rejected |") {
					t.Errorf("%s is rejected but docs/xml-reference.md does not list it", key)
				}
			}
		})
	}
	if valid < len(files)/2 {
		t.Errorf("only %d of %d libvirt files are valid", valid, len(files))
	}
}

// validFiles are the inputs that must parse without errors.
func validFiles(t *testing.T) []string {
	files := glob(t, "testdata/valid/*.xml")
	for _, f := range glob(t, filepath.Join(libvirtData, "lxcxml2xmldata", "*.xml")) {
		if _, _, err := ParseFile(f); err == nil {
			files = append(files, f)
		}
	}
	return files
}

func TestRoundTrip(t *testing.T) {
	for _, f := range validFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d1, _, err := ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, err := d1.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			d2, _, err := Parse("marshalled", out)
			if err != nil {
				t.Fatalf("marshalled XML does not parse: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(d1.XML, d2.XML) || d1.Meta != d2.Meta {
				t.Errorf("model changed across marshal:\n%s", out)
			}
			out2, err := d2.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(out2) {
				t.Errorf("marshal is not stable:\n%s\n---\n%s", out, out2)
			}
		})
	}
}

// TestMarshalSchema: what vmlite writes is valid libvirt XML.
func TestMarshalSchema(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: xmllint is missing (apt-get install libxml2-utils); marshalled XML is not checked against domain.rng")
	}
	rng := filepath.Join(testutil.LibvirtData(t), "schemas", "domain.rng")
	if _, err := os.Stat(rng); err != nil {
		t.Fatalf("libvirt's schema: %v", err)
	}
	dir := t.TempDir()
	for _, f := range validFiles(t) {
		d, _, err := ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(p, out, 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command(xmllint, "--noout", "--relaxng", rng, p).CombinedOutput(); err != nil {
			t.Errorf("%s: marshalled XML does not validate: %v\n%s\n%s", f, err, b, out)
		}
	}
}

// TestInvalidGolden compares each testdata/invalid/X.xml's errors with X.err.
func TestInvalidGolden(t *testing.T) {
	for _, f := range glob(t, "testdata/invalid/*.xml") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = Parse(filepath.Base(f), b)
			if err == nil {
				t.Fatal("parsed without error")
			}
			if !errdefs.IsUserError(err) {
				t.Errorf("not a user error: %v", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".xml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s:\ngot:\n%swant:\n%s", golden, got, want)
			}
		})
	}
}

// TestNewUserMistakes: the mistakes the issue names each give one line,
// with the line number of the mistake.
func TestNewUserMistakes(t *testing.T) {
	for _, tc := range []struct {
		file string
		line int
		want string
	}{
		{"typo-element.xml", 3, "did you mean <memory>?"},
		{"bad-ip.xml", 13, `/domain/devices/interface[2]/ip/@address: not an IP address (got "10.0.0.300")`},
		{"unknown-unit.xml", 3, "unknown unit"},
		{"dup-guest-dev.xml", 14, "same guest device name"},
		{"missing-init.xml", 3, "init binary must be specified"},
		{"truncated.xml", 9, "truncated"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, _, err := ParseFile(filepath.Join("testdata/invalid", tc.file))
			es := asErrors(t, err)
			if len(es) != 1 {
				t.Fatalf("want one error, got %d:\n%v", len(es), err)
			}
			if es[0].Line != tc.line {
				t.Errorf("line %d, want %d: %v", es[0].Line, tc.line, es[0])
			}
			if !strings.Contains(es[0].Error(), tc.want) {
				t.Errorf("%q does not say %q", es[0].Error(), tc.want)
			}
			if !strings.HasPrefix(es[0].Error(), "testdata/invalid/"+tc.file+":") {
				t.Errorf("%q does not start with FILE:LINE", es[0].Error())
			}
		})
	}
}

func TestMeta(t *testing.T) {
	d, warns, err := ParseFile("testdata/valid/full.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("unexpected warnings: %v", warns)
	}
	want := Meta{Hostname: "web1.example.com", PidsMax: 512, StopSignal: "SIGRTMIN+4", StopTimeout: 30 * time.Second, AllowIDMapOverlap: true}
	if d.Meta != want {
		t.Errorf("meta %+v, want %+v", d.Meta, want)
	}
	// Marshal writes Meta, not the stale XML, and keeps foreign metadata.
	d.Meta.PidsMax = 99
	d.Meta.Hostname = ""
	out, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	d2, _, err := Parse("x", out)
	if err != nil {
		t.Fatal(err)
	}
	if d2.Meta.PidsMax != 99 || d2.Meta.Hostname != "" || d2.Meta.StopSignal != "SIGRTMIN+4" {
		t.Errorf("meta after marshal: %+v", d2.Meta)
	}
	if !strings.Contains(string(out), `<app:owner xmlns:app="https://example.com/app">ops</app:owner>`) {
		t.Errorf("foreign metadata lost:\n%s", out)
	}
	if d2.XML.Features.Capabilities.DACReadSearch == nil || !strings.Contains(string(out), "<dac_read_search ") {
		t.Errorf("dac_read_search lost:\n%s", out)
	}
}

func TestInheritedMetadataNamespace(t *testing.T) {
	in := `<domain type='lxc' xmlns:app='urn:app'><name>n</name>
<metadata><app:x a='1'/></metadata><os><type>exe</type><init>/i</init></os></domain>`
	d, _, err := Parse("in", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(d.XML.Metadata.XML); got != `<app:x xmlns:app="urn:app" a='1'/>` {
		t.Errorf("metadata %q", got)
	}
}

func TestWarnings(t *testing.T) {
	d, warns, err := ParseFile(filepath.Join("testdata", "valid", "minimal.xml"))
	if err != nil || d.Name() != "mini" || len(warns) != 0 {
		t.Fatalf("minimal: %v %v", err, warns)
	}
	files := libvirtFiles(t)
	_, warns, err = ParseFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	s := strings.Join(got, "\n")
	for _, want := range []string{"/domain/devices/emulator: ignored", "/domain/clock/@offset: ignored", "/domain/os/type/@arch"} {
		if !strings.Contains(s, want) {
			t.Errorf("warnings lack %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "/domain/clock: ") {
		t.Errorf("clock warned twice:\n%s", s)
	}
}

func TestErrorsAs(t *testing.T) {
	_, _, err := ParseFile("testdata/invalid/bad-ip.xml")
	var p *Errors
	var v Errors
	var fe *FieldError
	if !errors.As(err, &p) || !errors.As(err, &v) || len(*p) != 1 || len(v) != 1 || !errors.As(err, &fe) || fe.Line != 13 {
		t.Errorf("errors.As on %T: %v %v %v", err, p, v, fe)
	}
	if fe.Path != "/domain/devices/interface[2]/ip/@address" || fe.Value != "10.0.0.300" || !errdefs.IsUserError(err) {
		t.Errorf("field error %+v", fe)
	}
}

func TestLiveNetworkBridge(t *testing.T) {
	in := `<domain type='lxc'><name>n</name><os><type>exe</type><init>/i</init></os><devices>
<interface type='network'><source network='default' bridge='virbr0' portid='0cb3ff5c-6d08-4c4f-8b6c-a3c4f3cc1c5e'/></interface></devices></domain>`
	_, warns, err := Parse("live", []byte(in))
	if err != nil || len(warns) != 2 {
		t.Errorf("live network interface: %v %v", err, warns)
	}
}

// flatten lists every attribute and text of a document as
// "/generic/path/@attr=value" and "/generic/path=text", namespace
// declarations aside.
func flatten(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	root, ferr := readTree("flatten", data)
	if ferr != nil {
		t.Fatal(ferr)
	}
	assignPaths(root)
	out := map[string]bool{}
	var walk func(n *node)
	walk = func(n *node) {
		p := genericPath(n.path)
		out[p] = true
		if t := n.trimmedText(); t != "" {
			out[p+"="+t] = true
		}
		for _, a := range n.attrs {
			if a.name.Space == "xmlns" || (a.prefix == "" && a.name.Local == "xmlns") {
				continue
			}
			out[p+"/@"+a.name.Local+"="+a.value] = true
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(root)
	return out
}

// TestNothingDropped: every element, attribute and text of a valid input is
// in what Marshal writes (libvirtxml silently drops what it does not model;
// the class table must not accept anything it would drop).
func TestNothingDropped(t *testing.T) {
	for _, f := range validFiles(t) {
		in, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := Parse(f, in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		have := flatten(t, out)
		for k := range flatten(t, in) {
			// The UUID is kept in its canonical spelling.
			if v, ok := strings.CutPrefix(k, "/domain/uuid="); ok {
				c, _ := ParseUUID(v)
				k = "/domain/uuid=" + c
			}
			if !have[k] {
				t.Errorf("%s: %s is lost by Marshal", filepath.Base(f), k)
			}
		}
	}
}
