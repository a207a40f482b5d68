package domain

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzParse: Parse never panics, and what it accepts survives
// Marshal -> Parse unchanged, with a stable Marshal.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{
		"testdata/valid/*.xml", "testdata/invalid/*.xml",
		filepath.Join(libvirtData, "lxcxml2xmldata", "*.xml"),
		filepath.Join(libvirtData, "lxcconf2xmldata", "*.xml"),
	} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, _, err := Parse("fuzz", data)
		if err != nil {
			if _, ok := err.(*Errors); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatalf("marshal of a valid domain: %v", err)
		}
		d2, _, err := Parse("marshalled", out)
		if err != nil {
			t.Fatalf("marshalled domain does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(d.XML, d2.XML) || d.Meta != d2.Meta {
			t.Fatalf("model changed across marshal:\n%s", out)
		}
		out2, err := d2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(out2) {
			t.Fatalf("marshal not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

// TestLargeInputs guards against quadratic behaviour on big documents (the
// fuzzer's mutations grow inputs): each shape must parse quickly.
func TestLargeInputs(t *testing.T) {
	const n = 20000
	rep := func(s string) string { return strings.Repeat(s, n) }
	for name, doc := range map[string]string{
		"many attributes": "<domain type='lxc' " + rep("a=''  ") + "/>",
		"split text":      "<domain type='lxc'><name>" + rep("x<!---->") + "</name></domain>",
		"many elements":   "<domain type='lxc'><devices>" + rep("<interface type='bridge'><source bridge='b'/><guest dev='e'/></interface>") + "</devices></domain>",
		"long name":       "<domain type='lxc'><" + rep("x") + "/></domain>",
		"many idmaps":     "<domain type='lxc'><idmap>" + rep("<uid start='0' target='0' count='1'/>") + "</idmap></domain>",
		"deep":            rep("<a>") + rep("</a>"),
		"deep domain":     "<domain>" + strings.Repeat("<metadata>", 255) + "</domain>",
	} {
		start := time.Now()
		if _, _, err := Parse(name, []byte(doc)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
	}
}
