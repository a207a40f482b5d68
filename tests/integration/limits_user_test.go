//go:build integration

package integration

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestLimitUserErrors: a cpuset outside the host's CPUs and a memory limit
// too small to set the guest up are the user's errors (exit 2) naming the
// element, the host's CPUs or the minimum, and the fix; not raw kernel
// text with exit 1 ("numerical result out of range", "signal: killed").
func TestLimitUserErrors(t *testing.T) {
	h := newHarness(t)
	far := strconv.Itoa(runtime.NumCPU() + 64)
	for _, tc := range []struct {
		name, from, to string
		want           []string
	}{
		{"cpuset", "</memory>", "</memory>\n  <vcpu cpuset='" + far + "'>1</vcpu>", []string{"/domain/vcpu/@cpuset", "the host gives guests CPUs"}},
		{"memory", `<memory unit="KiB">262144</memory>`, `<memory unit="b">1</memory>`, []string{"/domain/memory", "at least 2 MiB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := h.uniqueName("lim")
			x, _ := h.busybox(name, false)
			raw, err := os.ReadFile(x)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(raw, []byte(tc.from)) {
				t.Fatalf("template XML lacks %s", tc.from)
			}
			if err := os.WriteFile(x, bytes.Replace(raw, []byte(tc.from), []byte(tc.to), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			r := h.run("start", x)
			if r.code != 2 {
				t.Fatalf("start: want exit 2, got %v", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("start's error lacks %q: %s", w, r.stderr)
				}
			}
			h.assertGone(name)
		})
	}
}

// TestHugePlanStarts: a plan bigger than a socket packet (a 4 MiB
// <description>) reaches the guest's set-up (through a
// memfd) and the guest runs; it used to fail at start with "sendmsg:
// message too long".
func TestHugePlanStarts(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("huge")
	x, _ := h.busybox(name, false)
	raw, err := os.ReadFile(x)
	if err != nil {
		t.Fatal(err)
	}
	desc := "<description>" + strings.Repeat("d", 4<<20) + "</description>"
	raw = bytes.Replace(raw, []byte("</name>"), []byte("</name>\n  "+desc), 1)
	if err := os.WriteFile(x, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	h.must("start", x)
	h.waitState(name, "running")
	if r := h.must("exec", name, "--", "echo", "alive"); !strings.Contains(r.stdout, "alive") {
		t.Errorf("exec in the guest with a huge plan: %v", r)
	}
}
