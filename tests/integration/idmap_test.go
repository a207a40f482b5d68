//go:build integration

package integration

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestIDMapOverlap: of two guests with the same host ids started at the
// same moment, exactly one runs and the other is refused, naming it (the
// check and the launch hold a host-wide lock); the metadata flag allows the
// overlap; other ids are fine.
func TestIDMapOverlap(t *testing.T) {
	h := newHarness(t)
	for round := 0; round < 3; round++ {
		a, b := h.uniqueName("ovl"), h.uniqueName("ovl")
		xa, _ := h.busybox(a, true)
		xb, _ := h.busybox(b, true)
		var wg sync.WaitGroup
		res := make([]result, 2)
		for i, x := range []string{xa, xb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i] = runVmlite(h.root, "start", x)
			}()
		}
		wg.Wait()
		ok, refused := -1, -1
		for i, r := range res {
			switch {
			case r.code == 0:
				ok = i
			case r.code == 2 && strings.Contains(r.stderr, "also mapped by running guest"):
				refused = i
			}
		}
		if ok < 0 || refused < 0 {
			t.Fatalf("round %d: want one start and one refusal:\n%v\n%v", round, res[0], res[1])
		}
		names := []string{a, b}
		if !strings.Contains(res[refused].stderr, `"`+names[ok]+`"`) {
			t.Errorf("the refusal does not name the running guest %s: %s", names[ok], res[refused].stderr)
		}
		t.Logf("round %d: %s started, %s refused: %s", round, names[ok], names[refused], strings.TrimSpace(res[refused].stderr))

		// Allowed knowingly.
		x := []string{xa, xb}[refused]
		allowOverlap(t, x)
		h.must("start", x)
		h.must("destroy", a)
		h.must("destroy", b)
	}
	// Another range runs beside the default one.
	c, d := h.uniqueName("ovl"), h.uniqueName("ovl")
	xc, _ := h.busybox(c, true)
	xd, _ := h.busybox(d, true)
	b, err := os.ReadFile(xd)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(xd, bytes.ReplaceAll(b, []byte(`target="100000"`), []byte(`target="300000"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	h.must("start", xc)
	h.must("start", xd)
}

// runVmlite runs vmlite with root and no testing.T, for goroutines.
func runVmlite(root string, args ...string) result {
	cmd := exec.Command(bin, append([]string{"--root", root}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
		errb.WriteString(err.Error())
	}
	return result{out.String(), errb.String(), code}
}

// allowOverlap adds <vmlite:idmap allowOverlap="yes"/> to a template XML.
func allowOverlap(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	meta := `<metadata><vmlite:config xmlns:vmlite="urn:vmlite:domain:1"><vmlite:idmap allowOverlap="yes"/></vmlite:config></metadata>`
	b = bytes.Replace(b, []byte("</name>"), []byte("</name>\n  "+meta), 1)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestShiftedTreeInUse: a directory shifted by chown for a running guest is
// not shifted to other owners for another guest (refused, exit 2) until the
// first one stops.
func TestShiftedTreeInUse(t *testing.T) {
	h := newHarness(t)
	data := t.TempDir()
	a, b := h.uniqueName("use"), h.uniqueName("use")
	xa, _ := h.busybox(a, true)
	xb, _ := h.busybox(b, true)
	for _, x := range []string{xa, xb} {
		editXML(t, x, "", true, false)
		addBindMount(t, x, data, "/data")
	}
	raw, err := os.ReadFile(xb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(xb, bytes.ReplaceAll(raw, []byte(`target="100000"`), []byte(`target="300000"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	h.must("start", xa)
	r := h.run("start", xb)
	if r.code != 2 || !strings.Contains(r.stderr, "a running guest uses it") {
		t.Fatalf("second guest wanting the tree with other owners: %v", r)
	}
	t.Logf("refused: %s", strings.TrimSpace(r.stderr))
	h.must("destroy", a)
	h.must("start", xb)
	var st syscall.Stat_t
	if err := syscall.Stat(data, &st); err != nil || st.Uid != 300000 {
		t.Errorf("data dir uid %d (%v), want 300000 once the first guest stopped", st.Uid, err)
	}
}
