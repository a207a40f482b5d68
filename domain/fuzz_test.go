package domain

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
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
// fuzzer's mutations grow inputs). No wall-clock limit: each shape is parsed
// at n and 4n copies, and the larger must cost less than 10 times the
// smaller (linear work costs 4 times, quadratic 16). The cost is the
// process's CPU time, not the wall clock: on a loaded host (load 48 on 2
// cores was seen) wall time is mostly waiting for a core, which made the
// ratio flaky. The best of three runs of each size cuts what noise is left.
func TestLargeInputs(t *testing.T) {
	const n = 5000
	shapes := map[string]func(n int) string{
		"many attributes": func(n int) string { return "<domain type='lxc' " + strings.Repeat("a=''  ", n) + "/>" },
		"split text": func(n int) string {
			return "<domain type='lxc'><name>" + strings.Repeat("x<!---->", n) + "</name></domain>"
		},
		"many elements": func(n int) string {
			return "<domain type='lxc'><devices>" + strings.Repeat("<interface type='bridge'><source bridge='b'/><guest dev='e'/></interface>", n) + "</devices></domain>"
		},
		"long name": func(n int) string { return "<domain type='lxc'><" + strings.Repeat("x", n) + "/></domain>" },
		"many idmaps": func(n int) string {
			return "<domain type='lxc'><idmap>" + strings.Repeat("<uid start='0' target='0' count='1'/>", n) + "</idmap></domain>"
		},
		"deep": func(n int) string { return strings.Repeat("<a>", n) + strings.Repeat("</a>", n) },
	}
	best := func(name, doc string) time.Duration {
		var min time.Duration
		for i := 0; i < 3; i++ {
			start := cpuTime(t)
			if _, _, err := Parse(name, []byte(doc)); err == nil {
				t.Errorf("%s: parsed without error", name)
			}
			if d := cpuTime(t) - start; i == 0 || d < min {
				min = d
			}
		}
		return min
	}
	for name, shape := range shapes {
		small, large := best(name, shape(n)), best(name, shape(4*n))
		// Below a few milliseconds the ratio is the clock's granularity
		// (rusage counts in scheduler ticks), not growth.
		if small < 4*time.Millisecond {
			small = 4 * time.Millisecond
		}
		if large > 10*small {
			t.Errorf("%s: %d copies took %v, %d took %v: worse than linear", name, n, small, 4*n, large)
		}
	}
	if _, _, err := Parse("deep domain", []byte("<domain>"+strings.Repeat("<metadata>", 255)+"</domain>")); err == nil {
		t.Error("deep domain: parsed without error")
	}
}

// cpuTime is the user and system time the test process has used so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
