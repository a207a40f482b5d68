//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmlite/cgroup"
	"vmlite/internal/testutil"
)

// resources is the "resources" part of `vmlite status --json`.
type resources struct {
	MemoryLimit uint64 `json:"memoryLimitBytes"`
	CPUTime     int64  `json:"cpuTimeNs"`
	Pids        uint64 `json:"pids"`
	PidsMax     uint64 `json:"pidsMax"`
	OOMKills    uint64 `json:"oomKills"`
}

func (h *harness) resources(name string) resources {
	h.t.Helper()
	var r struct {
		Resources resources `json:"resources"`
	}
	out := h.must("status", name, "--json").stdout
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		h.t.Fatalf("decode status: %v\n%s", err, out)
	}
	return r.Resources
}

// limitedGuest makes a busybox guest with the given extra XML in <domain>
// and a 64 MiB memory limit.
func (h *harness) limitedGuest(name, extra string) string {
	h.t.Helper()
	xmlPath, _ := h.busybox(name, true)
	b, err := os.ReadFile(xmlPath)
	if err != nil {
		h.t.Fatal(err)
	}
	doc := string(b)
	start, end := strings.Index(doc, "<memory"), strings.Index(doc, "</memory>")+len("</memory>")
	doc = doc[:start] + `<memory unit="MiB">64</memory>` + extra + doc[end:]
	if err := os.WriteFile(xmlPath, []byte(doc), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return xmlPath
}

// TestGuestLimits: a guest's memory, pids and CPU limits hold for what runs
// inside it, OOM kills stay inside and are counted, and setmem works live.
func TestGuestLimits(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-limits")
	xml := h.limitedGuest(name, `<vcpu>1</vcpu><cputune><period>100000</period><quota>50000</quota></cputune>
  <metadata><vmlite:config xmlns:vmlite="urn:vmlite:domain:1"><vmlite:pids max="40"/></vmlite:config></metadata>`)
	h.must("start", xml)
	h.waitConsole(name, "BOOTED "+name)

	r := h.resources(name)
	if r.MemoryLimit != 64<<20 || r.PidsMax != 40 {
		t.Fatalf("limits = %+v, want 64 MiB and 40 tasks", r)
	}
	// The guest sees its own limit where its cgroup version keeps it.
	mode, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	limitFile := "/sys/fs/cgroup/memory/memory.limit_in_bytes" // v1 and hybrid
	if mode == cgroup.V2 {
		limitFile = "/sys/fs/cgroup/memory.max"
	}
	if got := strings.TrimSpace(h.must("exec", name, "--", "cat", limitFile).stdout); got != strconv.Itoa(64<<20) {
		t.Errorf("guest's view of its limit (%s, cgroup mode %v): %q, want %d", limitFile, mode, got, 64<<20)
	}

	t.Run("oom stays inside", func(t *testing.T) {
		// A 200 MB shell string in a 64 MiB guest: the kernel kills that
		// shell, not init, not the host.
		res := h.run("exec", name, "--", "sh", "-c", `x=$(head -c 200000000 /dev/zero | tr '\0' a); echo survived ${#x}`)
		if res.code == 0 || strings.Contains(res.stdout, "survived") {
			t.Fatalf("the allocation was not stopped: %v", res)
		}
		testutil.WaitFor(t, 30*time.Second, "an OOM kill in status", func() bool { return h.resources(name).OOMKills >= 1 })
		if st := h.status(name); st.State != "running" {
			t.Errorf("guest state after the OOM = %+v, want running", st)
		}
	})

	t.Run("fork bomb stops at the pids limit", func(t *testing.T) {
		res := h.run("exec", name, "--", "sh", "-c", `n=0; while [ $n -lt 100 ]; do sleep 5 >/dev/null 2>&1 & n=$((n+1)); done; echo started`)
		t.Logf("fork loop: exit %d, %s", res.code, strings.TrimSpace(res.stderr))
		p := h.resources(name).Pids
		if p > 40 || p < 20 {
			t.Errorf("guest runs %d tasks; want it held at the limit of 40", p)
		}
		if !strings.Contains(res.stderr, "fork") {
			t.Errorf("the loop of 100 did not hit the limit: %v", res)
		}
		// A guest at its pids limit has no room for `vmlite exec` either
		// (it needs a few tasks in the guest): the sleeps end by themselves.
		testutil.WaitFor(t, 60*time.Second, "the sleeps gone", func() bool { return h.resources(name).Pids < 10 })
	})

	t.Run("half a core", func(t *testing.T) {
		before := h.resources(name).CPUTime
		start := time.Now()
		h.must("exec", name, "--", "sh", "-c", `end=$(($(date +%s)+3)); while [ $(date +%s) -lt $end ]; do :; done`)
		wall := time.Since(start)
		used := time.Duration(h.resources(name).CPUTime - before)
		ratio := used.Seconds() / wall.Seconds()
		t.Logf("busy loop used %v of CPU in %v: %.2f of a core (quota 0.5)", used, wall, ratio)
		// The quota caps the share at 0.5 (0.7 leaves room for the
		// accounting's granularity). Only the cap is asserted: a loaded
		// machine gives the loop less, which says nothing about the quota.
		if ratio > 0.7 {
			t.Errorf("CPU share %.2f, over the quota of 0.5", ratio)
		}
		if used <= 0 {
			t.Errorf("the busy loop used no CPU time in the guest's cgroup (%v)", used)
		}
	})

	t.Run("setmem live", func(t *testing.T) {
		h.must("setmem", name, "48M")
		if r := h.resources(name); r.MemoryLimit != 48<<20 {
			t.Errorf("limit after setmem = %d, want %d", r.MemoryLimit, 48<<20)
		}
	})
	h.must("destroy", name)
	h.assertGone(name)
}
