//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// TestBusyboxLifecycle boots the busybox template, checks PID 1, hostname,
// exec and its exit status, then stops it gracefully.
func TestBusyboxLifecycle(t *testing.T) {
	for _, idmap := range []bool{false, true} {
		t.Run(fmt.Sprintf("idmap=%v", idmap), func(t *testing.T) {
			h := newHarness(t)
			name := h.uniqueName("it-life")
			xml, _ := h.busybox(name, idmap)
			r := h.must("start", xml)
			if !strings.Contains(r.stdout, "started") {
				t.Fatalf("start output: %v", r)
			}
			h.waitConsole(name, "vmlite-guest: BOOTED "+name)

			// busybox init rewrites its argv[0] to "init".
			if got := strings.TrimRight(h.must("exec", name, "--", "cat", "/proc/1/cmdline").stdout, "\x00\n"); got != "init" {
				t.Errorf("PID 1 cmdline = %q, want busybox init", got)
			}
			if got := strings.TrimSpace(h.must("exec", name, "--", "readlink", "/proc/1/exe").stdout); got != "/bin/busybox" {
				t.Errorf("PID 1 exe = %q, want /bin/busybox (the rootfs's /sbin/init)", got)
			}
			if got := strings.TrimSpace(h.must("exec", name, "--", "hostname").stdout); got != name {
				t.Errorf("hostname = %q, want %q", got, name)
			}
			// lo is up (IFF_UP|IFF_LOOPBACK) in the guest's own network namespace.
			if got := strings.TrimSpace(h.must("exec", name, "--", "cat", "/sys/class/net/lo/flags").stdout); got != "0x9" {
				t.Errorf("lo flags = %q, want 0x9 (up)", got)
			}
			if r := h.run("exec", name, "--", "sh", "-c", "exit 7"); r.code != 7 {
				t.Errorf("exec exit status = %d, want 7 (%v)", r.code, r)
			}
			if got := strings.TrimSpace(h.must("exec", name, "--", "id", "-u").stdout); got != "0" {
				t.Errorf("uid inside = %q, want 0", got)
			}
			st := h.status(name)
			if st.State != "running" || st.InitPID <= 0 {
				t.Fatalf("status = %+v", st)
			}
			wantUID := 0
			if idmap {
				wantUID = 100000
			}
			if uid := hostUID(t, st.InitPID); uid != wantUID {
				t.Errorf("init runs as host uid %d, want %d", uid, wantUID)
			}
			list := h.must("list").stdout
			if !strings.Contains(list, name) || !strings.Contains(list, "running") {
				t.Errorf("list does not show %s running:\n%s", name, list)
			}

			start := time.Now()
			r = h.must("stop", name, "--timeout", "30s")
			if strings.Contains(r.stdout, "killed") {
				t.Errorf("stop was not graceful: %v", r)
			}
			t.Logf("graceful stop took %v", time.Since(start))
			if !strings.Contains(h.consoleLog(name), "vmlite-guest: SHUTDOWN "+name) {
				t.Errorf("init did not run its shutdown (no SHUTDOWN marker):\n%s", tail(h.consoleLog(name)))
			}
			st = h.status(name)
			if st.State != "shutoff" || st.Reason != "shutdown" {
				t.Errorf("after stop: %+v", st)
			}
			h.assertGone(name)
			// The console log outlives the guest.
			if out := h.must("logs", name).stdout; !strings.Contains(out, "BOOTED "+name) {
				t.Errorf("logs of a stopped guest lack the boot log:\n%s", tail(out))
			}
		})
	}
}

func hostUID(t *testing.T, pid int) int {
	t.Helper()
	fi, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// TestLibvirtHelloworld runs libvirt's own example unchanged: no root
// filesystem (the guest shares the host's /), /bin/sh as PID 1.
func TestLibvirtHelloworld(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-hello")
	xml := h.writeXML(name, `<domain type='lxc'><name>`+name+`</name><memory>102400</memory>
  <os><type>exe</type><init>/bin/sh</init></os><devices><console type='pty'/></devices></domain>`)
	h.must("start", xml)
	if got := strings.TrimRight(h.must("exec", name, "--", "cat", "/proc/1/cmdline").stdout, "\x00\n"); got != "/bin/sh" {
		t.Errorf("PID 1 = %q, want /bin/sh", got)
	}
	// Its own /proc: only the guest's processes are visible.
	ps := h.must("exec", name, "--", "sh", "-c", "ls /proc | grep -c '^[0-9]'").stdout
	if n, _ := strconv.Atoi(strings.TrimSpace(ps)); n < 1 || n > 5 {
		t.Errorf("guest sees %s processes in its /proc, want a handful", strings.TrimSpace(ps))
	}
	h.must("destroy", name)
	if st := h.status(name); st.State != "shutoff" || st.Reason != "destroyed" {
		t.Errorf("after destroy: %+v", st)
	}
	h.assertGone(name)
}

// TestCrashedInit: an init that exits non-zero leaves "crashed" with its status.
func TestCrashedInit(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-crash")
	xml := h.writeXML(name, `<domain type='lxc'><name>`+name+`</name><memory unit='MiB'>64</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>sleep 0.3; exit 3</initarg></os>
  <on_crash>destroy</on_crash><devices><console type='pty'/></devices></domain>`)
	h.must("start", xml)
	st := h.waitState(name, "crashed")
	if st.ExitStatus == nil || *st.ExitStatus != 3 {
		t.Errorf("exit status = %v, want 3 (%+v)", st.ExitStatus, st)
	}
	testutil.WaitFor(t, 30*time.Second, "supervisor exit", func() bool {
		return len(processesOf(name)) == 0 && len(supervisorsUnder(h.root)) == 0
	})
	h.assertGone(name)
}

// TestStartFailures: each bad start names the problem, exits 2 and leaves nothing.
func TestStartFailures(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-fail")
	xmlPath, rootfs := h.busybox(name, false)
	good, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	noexec := filepath.Join(rootfs, "sbin", "notexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		edit    func(string) string
		want    []string
		wantErr int
	}{
		{"missing rootfs", func(s string) string { return strings.Replace(s, rootfs, rootfs+"-missing", 1) },
			[]string{"/domain/devices/filesystem/source/@dir", "not an existing directory"}, 2},
		{"missing init", func(s string) string { return strings.Replace(s, "/sbin/init", "/sbin/nosuchinit", 1) },
			[]string{"/domain/os/init", "/sbin/nosuchinit", "not found"}, 2},
		{"init not executable", func(s string) string { return strings.Replace(s, "/sbin/init", "/sbin/notexec", 1) },
			[]string{"/domain/os/init", "not an executable"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := h.writeXML(name, tc.edit(string(good)))
			r := h.run("start", x)
			if r.code != tc.wantErr {
				t.Fatalf("exit %d, want %d: %v", r.code, tc.wantErr, r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
				t.Errorf("want a short error, got:\n%s", r.stderr)
			}
			h.assertGone(name)
		})
	}
	t.Run("already running", func(t *testing.T) {
		h.must("start", xmlPath)
		r := h.run("start", xmlPath)
		if r.code != 2 || !strings.Contains(r.stderr, "already running") {
			t.Errorf("second start: %v", r)
		}
		h.must("destroy", name)
		h.assertGone(name)
	})
}

// TestConcurrentStarts: of several starts of one name, exactly one wins.
func TestConcurrentStarts(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-race")
	xml, _ := h.busybox(name, false)
	const n = 4
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = h.run("start", xml).code
		}(i)
	}
	wg.Wait()
	wins := 0
	for _, c := range codes {
		if c == 0 {
			wins++
		} else if c != 2 {
			t.Errorf("a losing start exited %d, want 2", c)
		}
	}
	if wins != 1 {
		t.Errorf("%d starts won, want exactly 1 (%v)", wins, codes)
	}
	h.must("destroy", name)
	h.assertGone(name)
}

// TestReboot: `vmlite reboot` and a reboot typed inside both bring it back.
func TestReboot(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-reboot")
	xml, _ := h.busybox(name, true)
	h.must("start", xml)
	h.waitConsole(name, "BOOTED "+name)
	before := h.status(name).InitPID
	h.must("reboot", name)
	h.waitState(name, "running")
	testutil.WaitFor(t, 60*time.Second, "second boot", func() bool { return h.countConsole(name, "BOOTED "+name) >= 2 })
	after := h.status(name)
	if after.InitPID == before || after.Restarts != 1 {
		t.Errorf("after vmlite reboot: %+v (init pid before %d)", after, before)
	}
	// reboot(2) inside the guest ends only the guest's init (SIGHUP); on_reboot restarts.
	h.run("exec", name, "--", "reboot")
	testutil.WaitFor(t, 60*time.Second, "third boot", func() bool { return h.countConsole(name, "BOOTED "+name) >= 3 })
	st := h.waitState(name, "running")
	if st.Restarts != 2 {
		t.Errorf("restarts = %d, want 2", st.Restarts)
	}
	h.must("stop", name)
	h.assertGone(name)
}

// TestSupervisorKilled: a killed supervisor is reported honestly, and
// destroy still cleans up; stop does too, and says that it could not shut
// the guest down gracefully (it used to kill it silently).
func TestSupervisorKilled(t *testing.T) {
	h := newHarness(t)
	for _, verb := range []string{"destroy", "stop"} {
		name := h.uniqueName("it-orphan")
		xml, _ := h.busybox(name, false)
		h.must("start", xml)
		st := h.status(name)
		if err := syscall.Kill(st.SupervisorPID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 30*time.Second, "supervisor gone", func() bool { return processGone(st.SupervisorPID) })
		if got := h.status(name); got.State != "orphaned" {
			t.Errorf("state after supervisor kill = %q, want orphaned", got.State)
		}
		if out := h.must("list").stdout; !strings.Contains(out, "orphaned") {
			t.Errorf("list does not say orphaned:\n%s", out)
		}
		if r := h.run("start", xml); r.code != 2 {
			t.Errorf("start over an orphan: %v", r)
		}
		begin := time.Now()
		r := h.must(verb, name)
		if !strings.Contains(r.stdout, "supervisor had died") || (verb == "stop" && !strings.Contains(r.stderr, "not shut down gracefully")) {
			t.Errorf("%s of an orphaned guest does not say so: %v", verb, r)
		}
		// Exited, a zombie too: the host's PID 1 reaps the orphaned init,
		// whenever it does (this sandbox's may never).
		if !processGone(st.InitPID) {
			t.Errorf("init %d still alive after %s", st.InitPID, verb)
		}
		t.Logf("%s of an orphaned guest took %v", verb, time.Since(begin).Round(time.Millisecond))
		h.assertGone(name)
	}
}

// TestStopSignalAnyName: a stop signal that validation accepts is the one
// stop sends. SIGWINCH passed validation and then the stop code could not
// read it, so the guest was killed at once instead.
func TestStopSignalAnyName(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-sig")
	script := `trap 'echo GOT-WINCH; exit 0' WINCH; echo READY; while :; do sleep 1 &amp; wait $!; done`
	xml := h.writeXML(name, `<domain type='lxc'><name>`+name+`</name><memory>102400</memory>
  <metadata><vmlite:config xmlns:vmlite="urn:vmlite:domain:1"><vmlite:stop signal="SIGWINCH" timeout="60s"/></vmlite:config></metadata>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>`+script+`</initarg></os>
  <devices><console type='pty'/></devices></domain>`)
	h.must("start", xml)
	h.waitConsole(name, "READY")
	r := h.must("stop", name)
	if strings.Contains(r.stdout, "killed") {
		t.Errorf("stop was not graceful: %v", r)
	}
	if log := h.consoleLog(name); !strings.Contains(log, "GOT-WINCH") {
		t.Errorf("init never got SIGWINCH at stop (console: %q)", tail(log))
	}
	if st := h.status(name); st.State != "shutoff" || st.Reason != "shutdown" {
		t.Errorf("after stop: %+v", st)
	}
	h.assertGone(name)
}

// TestUUIDOneSpelling: a guest defined with the canonical UUID and started as
// a transient guest with the same UUID undashed in upper case is one guest:
// no false clash, and plan, state, dumpxml and LIBVIRT_LXC_UUID all carry
// the canonical form (before, the transient guest kept the spelling of its
// XML and was refused as a clash with its defined twin).
func TestUUIDOneSpelling(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-uuid")
	const canonical = "8369f1ac-7e46-e869-4ca5-759d51478066"
	doc := func(uuid string) string {
		return h.writeXML(name+"-"+uuid[:4], `<domain type='lxc'><name>`+name+`</name><uuid>`+uuid+`</uuid><memory>102400</memory>
  <os><type>exe</type><init>/bin/sh</init></os><devices><console type='pty'/></devices></domain>`)
	}
	h.must("define", doc(canonical))
	h.must("start", doc("8369F1AC7E46E8694CA5759D51478066"))
	if out := h.must("dumpxml", name).stdout; !strings.Contains(out, "<uuid>"+canonical+"</uuid>") {
		t.Errorf("dumpxml lacks <uuid>%s</uuid>:\n%s", canonical, out)
	}
	for _, f := range []string{"state.json", "plan.json"} {
		b, err := os.ReadFile(filepath.Join(h.root, "run", "guests", name, f))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.UUID != canonical {
			t.Errorf("%s: uuid %q, want %s (%v)", f, v.UUID, canonical, err)
		}
	}
	env := h.must("exec", name, "--", "cat", "/proc/1/environ").stdout
	if !strings.Contains(env, "LIBVIRT_LXC_UUID="+canonical+"\x00") {
		t.Errorf("init's environment lacks LIBVIRT_LXC_UUID=%s: %q", canonical, env)
	}
	h.must("destroy", name)
	h.assertGone(name)
}

// TestInitUser: <inituser>/<initgroup> are resolved in the guest's files and
// init runs with exactly those ids (real, effective, saved) and no
// capabilities.
func TestInitUser(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-user")
	xml := h.writeXML(name, `<domain type='lxc'><name>`+name+`</name><memory>102400</memory>
  <os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>echo READY; exec sleep 1000</initarg>
    <inituser>nobody</inituser><initgroup>nogroup</initgroup></os>
  <devices><console type='pty'/></devices></domain>`)
	h.must("start", xml)
	h.waitConsole(name, "READY")
	st := h.status(name)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", st.InitPID))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Uid": "65534\t65534\t65534\t65534", "Gid": "65534\t65534\t65534\t65534", "Groups": "65534", "CapEff": "0000000000000000"}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if w, ok := want[k]; ok {
			if got := strings.TrimSpace(v); got != w {
				t.Errorf("init's %s = %q, want %q", k, got, w)
			}
			delete(want, k)
		}
	}
	if len(want) > 0 {
		t.Errorf("init's status lacks %v", want)
	}
	h.must("destroy", name)
	h.assertGone(name)
}
