//go:build integration

package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"vmlite/internal/testutil"
)

// freePort returns a 127.0.0.1 port nothing listens on (now).
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRegistry runs Debian's docker-registry (the distribution project's
// registry) on 127.0.0.1 with its own config and storage in a temp dir,
// stopped at the end of the test; it returns host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatalf("docker-registry is not installed (scripts/install-deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
	})
	testutil.WaitFor(t, 20*time.Second, "the registry answers /v2/", func() bool {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return addr
}

// TestImagePull pushes the two-layer busybox image to a real local
// registry with go-containerregistry, pulls it with vmlite image pull and
// boots it; a pull from a port nobody answers on fails with one clear error.
func TestImagePull(t *testing.T) {
	h := newHarness(t)
	_, rootfs := h.busybox(h.uniqueName("it-pullsrc"), false)
	img := twoLayerImage(t, rootfs, v1.Config{})
	addr := startRegistry(t)
	ref := addr + "/vmlite/busybox:test"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push to the local registry: %v", err)
	}
	out := h.must("image", "pull", ref).stdout
	if !strings.Contains(out, "2 layers") {
		t.Errorf("pull: %q", out)
	}
	rows := h.images()
	want, _ := img.ConfigName()
	if len(rows) != 1 || rows[0].Name != ref || rows[0].ID != want.String() || rows[0].Format != "registry" {
		t.Fatalf("image list after pull: %+v, want %s with id %s", rows, ref, want)
	}
	g := h.uniqueName("it-pulled")
	h.must("start", h.templateImage(ref, g, "--idmap-auto"))
	h.waitConsole(g, "vmlite-guest: BOOTED")
	if got := h.must("exec", g, "--", "cat", "/etc/layer2").stdout; got != "from layer 2\n" {
		t.Errorf("/etc/layer2 in the pulled guest: %q", got)
	}
	h.must("stop", g)

	t.Run("nobody answers", func(t *testing.T) {
		bad := fmt.Sprintf("127.0.0.1:%d/vmlite/none:1", freePort(t))
		r := h.run("image", "pull", bad)
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "image "+bad) || !strings.Contains(r.stderr, "connection refused") {
			t.Errorf("pull from a closed port: %v", r)
		}
		if rows := h.images(); len(rows) != 1 {
			t.Errorf("image list after a failed pull: %+v", rows)
		}
	})
	// A registry that takes the connection and never replies: given up
	// at --timeout.
	t.Run("no reply", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		held := make(chan net.Conn, 16)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				held <- c // kept open, unread and unanswered
			}
		}()
		defer func() {
			for {
				select {
				case c := <-held:
					c.Close()
				default:
					return
				}
			}
		}()
		bad := l.Addr().String() + "/vmlite/none:1"
		r := h.run("image", "pull", bad, "--timeout", "2s")
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "image "+bad) || !strings.Contains(r.stderr, "registry unreachable") {
			t.Errorf("pull from a registry that does not reply: %v", r)
		}
		if rows := h.images(); len(rows) != 1 {
			t.Errorf("image list after a failed pull: %+v", rows)
		}
		if left, _ := filepath.Glob(filepath.Join(h.root, "lib/images/tmp/*")); len(left) > 0 {
			t.Errorf("left in the store: %v", left)
		}
	})
}
