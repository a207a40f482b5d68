//go:build integration

package integration

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// debianCache is where the Debian template keeps its debootstrap tree for
// the tests: on the same machine a second run (and CI after a developer's
// run) copies it in a second instead of running debootstrap for minutes.
const debianCache = "/var/cache/vmlite-test"

// TestDebianSystemd boots a Debian guest with systemd (idmapped, cgroups
// delegated) and checks what a person expects of an OS guest: it reaches
// running, the console offers a login that works, journald and a service
// work, it stays inside its cgroups, and stop and reboot go through systemd.
func TestDebianSystemd(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-deb")
	rootfs := filepath.Join(h.t.TempDir(), name)
	start := time.Now()
	r := h.run("template", "debian", rootfs, "--name", name, "--root-password", "vmlite-test", "--cache", debianCache)
	if r.code != 0 {
		t.Fatalf("template debian: %v", r)
	}
	t.Logf("template debian took %v", time.Since(start).Round(time.Millisecond))
	// busybox for a small web server, copied from the host.
	if err := copyFile("/bin/busybox", filepath.Join(rootfs, "usr/local/bin/busybox"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(rootfs, "srv/www"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "srv/www/index.html"), []byte("hello from "+name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A point-to-point veth: host side 198.19.N.1, guest 198.19.N.2.
	n := 1 + rand.IntN(250)
	hostIP, guestIP := fmt.Sprintf("198.19.%d.1", n), fmt.Sprintf("198.19.%d.2", n)
	doc := strings.Replace(r.stdout, "<console", fmt.Sprintf(`<interface type='ethernet'><source><ip address='%s' prefix='24'/></source>
      <ip address='%s' prefix='24'/></interface>
    <console`, hostIP, guestIP), 1)
	xml := h.writeXML(name, doc)
	before := hostCgroupDirs()

	bootStart := time.Now()
	h.must("start", xml)
	waitRunning := func() string {
		var state string
		testutil.WaitFor(t, 120*time.Second, "systemctl is-system-running", func() bool {
			r := h.run("exec", name, "--", "systemctl", "is-system-running")
			state = strings.TrimSpace(r.stdout)
			return state == "running" || state == "degraded"
		})
		return state
	}
	state := waitRunning()
	t.Logf("systemd reached %q %v after start", state, time.Since(bootStart).Round(time.Millisecond))
	if state != "running" {
		failed := h.run("exec", name, "--", "systemctl", "--failed", "--no-legend").stdout
		t.Errorf("system state %q; failed units:\n%s", state, failed)
	}

	t.Run("cgroups stay inside", func(t *testing.T) {
		if got := strings.TrimSpace(h.must("exec", name, "--", "cat", "/proc/1/cgroup").stdout); !strings.Contains(got, "/init.scope") {
			t.Errorf("systemd's own cgroup: %q", got)
		}
		if added := newDirs(before, hostCgroupDirs()); len(added) > 0 {
			t.Errorf("cgroups appeared on the host outside the guest's subtree: %v", added)
		}
	})

	t.Run("console login", func(t *testing.T) {
		c := h.attach(t, name)
		defer c.detach()
		c.send("\r")
		c.expect("login:")
		c.send("root\r")
		c.expect("Password:")
		c.send("vmlite-test\r")
		c.expect("#")
		c.send("echo LOGGED-IN-$((6*7)) $(hostname)\r")
		c.expect("LOGGED-IN-42 " + name)
		c.send("exit\r")
	})

	t.Run("journald and a service", func(t *testing.T) {
		if out := h.must("exec", name, "--", "journalctl", "-b", "--no-pager", "-q", "-n", "5").stdout; strings.TrimSpace(out) == "" {
			t.Errorf("journalctl shows nothing")
		}
		// The template's journald.conf.d drop-in caps journal files at 8
		// MiB, so journald sizes the file's hash table for 8 MiB (14563
		// items), not for the 128 MiB a big host disk allows (233016).
		header := h.must("exec", name, "--", "journalctl", "--header", "--no-pager").stdout
		if m := regexp.MustCompile(`Data hash table size: (\d+)`).FindStringSubmatch(header); m == nil {
			t.Errorf("journalctl --header shows no data hash table size:\n%s", header)
		} else if n, _ := strconv.Atoi(m[1]); n > 20000 {
			t.Errorf("journal hash table of %d items: journald did not take the 8 MiB file cap", n)
		}
		h.must("exec", name, "--", "systemd-run", "--unit=web", "/usr/local/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/srv/www")
		var body string
		testutil.WaitFor(t, 30*time.Second, "the guest's web service", func() bool {
			conn, err := net.DialTimeout("tcp", guestIP+":8080", 2*time.Second)
			if err != nil {
				return false
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET /index.html HTTP/1.0\r\n\r\n")
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			b, _ := io.ReadAll(conn)
			body = string(b)
			return strings.Contains(body, "hello from "+name)
		})
		if st := strings.TrimSpace(h.run("exec", name, "--", "systemctl", "is-active", "web").stdout); st != "active" {
			t.Errorf("web.service is %q", st)
		}
	})

	t.Run("reboot", func(t *testing.T) {
		h.must("reboot", name)
		waitRunning()
		h.run("exec", name, "--", "systemctl", "reboot")
		testutil.WaitFor(t, 120*time.Second, "a reboot from inside", func() bool { return h.status(name).Restarts >= 2 })
		waitRunning()
	})

	stopStart := time.Now()
	r = h.must("stop", name, "--timeout", "60s")
	if strings.Contains(r.stdout, "killed") {
		t.Errorf("systemd did not power off within the timeout: %v", r)
	}
	t.Logf("graceful stop took %v", time.Since(stopStart).Round(time.Millisecond))
	h.assertGone(name)
	if added := newDirs(before, hostCgroupDirs()); len(added) > 0 {
		t.Errorf("cgroups left on the host: %v", added)
	}

	t.Run("stop right after start", func(t *testing.T) {
		h.must("start", xml)
		begin := time.Now()
		r := h.must("stop", name, "--timeout", "90s")
		if strings.Contains(r.stdout, "killed") {
			t.Errorf("stop right after start was not graceful: %v", r)
		}
		t.Logf("stop right after start took %v", time.Since(begin).Round(time.Millisecond))
		h.assertGone(name)
	})
}

// hostCgroupDirs lists the directories at the top of every cgroup
// hierarchy and one level below vmlite's own.
func hostCgroupDirs() map[string]bool {
	out := map[string]bool{}
	hs, _ := filepath.Glob("/sys/fs/cgroup/*")
	hs = append(hs, "/sys/fs/cgroup")
	for _, h := range hs {
		ents, _ := os.ReadDir(h)
		for _, e := range ents {
			if e.IsDir() {
				out[filepath.Join(h, e.Name())] = true
			}
		}
	}
	return out
}

// newDirs lists the cgroups in after and not in before that a guest's
// systemd would make had it escaped its subtree: named after a unit
// (init.scope, system.slice, ...), as systemd names every cgroup it makes.
// Others are whatever else runs on the host meanwhile (another test's
// cgroup, a benchmark's), not the guest's doing.
func newDirs(before, after map[string]bool) []string {
	var added []string
	for d := range after {
		if !before[d] && isUnitCgroup(filepath.Base(d)) {
			added = append(added, d)
		}
	}
	return added
}

// isUnitCgroup reports whether name is a systemd unit's (systemd.unit(5):
// the types whose units get a cgroup).
func isUnitCgroup(name string) bool {
	for _, suffix := range []string{".slice", ".scope", ".service", ".socket", ".mount", ".swap"} {
		if strings.HasSuffix(name, suffix) && len(name) > len(suffix) {
			return true
		}
	}
	return false
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

// consoleClient drives `vmlite console` through pipes, expect-style.
type consoleClient struct {
	t    *testing.T
	cmd  *exec.Cmd
	in   io.WriteCloser
	seen chan string
	buf  strings.Builder
}

func (h *harness) attach(t *testing.T, name string) *consoleClient {
	t.Helper()
	cmd := exec.Command(bin, "--root", h.root, "console", name)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &consoleClient{t: t, cmd: cmd, in: in, seen: make(chan string, 64)}
	go func() {
		rd := bufio.NewReader(out)
		b := make([]byte, 4096)
		for {
			n, err := rd.Read(b)
			if n > 0 {
				c.seen <- string(b[:n])
			}
			if err != nil {
				close(c.seen)
				return
			}
		}
	}()
	return c
}

func (c *consoleClient) send(s string) {
	if _, err := io.WriteString(c.in, s); err != nil {
		c.t.Fatalf("console write: %v", err)
	}
}

// expect waits for s in the output since the last expect.
func (c *consoleClient) expect(s string) {
	c.t.Helper()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(c.buf.String(), s) {
		select {
		case chunk, ok := <-c.seen:
			if !ok {
				c.t.Fatalf("console closed while waiting for %q; got %q", s, tail(c.buf.String()))
			}
			c.buf.WriteString(chunk)
		case <-deadline:
			c.t.Fatalf("timed out waiting for %q on the console; got %q", s, tail(c.buf.String()))
		}
	}
	rest := c.buf.String()
	rest = rest[strings.Index(rest, s)+len(s):]
	c.buf.Reset()
	c.buf.WriteString(rest)
}

// detach sends Ctrl-] and waits for the client to exit.
func (c *consoleClient) detach() {
	_, _ = io.WriteString(c.in, "\x1d")
	_ = c.in.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		c.t.Errorf("console client did not detach")
	}
}

// TestDebianNoIDMap: the Debian template without a user namespace prints
// a domain whose systemd reaches running (it keeps CAP_SYS_ADMIN, which
// vmlite drops from unmapped guests by default) and stops through systemd.
func TestDebianNoIDMap(t *testing.T) {
	h := newHarness(t)
	name := h.uniqueName("it-debnm")
	rootfs := filepath.Join(h.t.TempDir(), name)
	r := h.run("template", "debian", rootfs, "--name", name, "--no-idmap", "--no-root-password", "--cache", debianCache)
	if r.code != 0 {
		t.Fatalf("template debian --no-idmap: %v", r)
	}
	if !strings.Contains(r.stdout, "sys_admin") || !strings.Contains(r.stderr, "CAP_SYS_ADMIN") {
		t.Errorf("the unmapped domain keeps CAP_SYS_ADMIN silently or not at all:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
	h.must("start", h.writeXML(name, r.stdout))
	var state string
	testutil.WaitFor(t, 120*time.Second, "systemctl is-system-running", func() bool {
		r := h.run("exec", name, "--", "systemctl", "is-system-running")
		state = strings.TrimSpace(r.stdout)
		return state == "running" || state == "degraded" || h.status(name).State != "running"
	})
	if state != "running" {
		t.Errorf("system state %q, guest %+v; failed units:\n%s", state, h.status(name), h.run("exec", name, "--", "systemctl", "--failed", "--no-legend").stdout)
	}
	h.must("stop", name, "--timeout", "60s")
	if st := h.status(name); st.Reason != "shutdown" {
		t.Errorf("after stop: %+v", st)
	}
	h.assertGone(name)
}
