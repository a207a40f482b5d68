//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"vmlite/internal/testutil"
)

// TestImageDebian: the Debian template's tree (from the debootstrap cache
// the Debian tests keep) as a zstd rootfs tarball, imported, boots systemd
// to "running" from the image, mapped (idmapped lower layers) and unmapped.
func TestImageDebian(t *testing.T) {
	h := newHarness(t)
	rootfs := filepath.Join(t.TempDir(), "deb")
	if r := h.run("template", "debian", rootfs, "--name", "deb", "--no-root-password", "--cache", debianCache); r.code != 0 {
		t.Fatalf("template debian: %v", r)
	}
	tarball := filepath.Join(t.TempDir(), "deb.tar.zst")
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	zw, err := zstd.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(tarDir(t, rootfs)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	start := time.Now()
	h.must("image", "import", tarball)
	t.Logf("import of the Debian tarball took %v", time.Since(start).Round(time.Millisecond))
	if rows := h.images(); len(rows) != 1 || rows[0].Name != "deb" {
		t.Fatalf("image list: %+v", rows)
	}
	for _, mode := range []struct {
		name string
		flag string
	}{{"mapped", "--idmap-auto"}, {"unmapped", "--no-idmap"}} {
		t.Run(mode.name, func(t *testing.T) {
			g := h.uniqueName("it-imgdeb")
			h.must("start", h.templateImage("deb", g, mode.flag, "--memory", "512M"))
			var state string
			testutil.WaitFor(t, 120*time.Second, "systemctl is-system-running", func() bool {
				r := h.run("exec", g, "--", "systemctl", "is-system-running")
				state = strings.TrimSpace(r.stdout)
				return state == "running" || state == "degraded" || h.status(g).State != "running"
			})
			if state != "running" {
				t.Errorf("system state %q; failed units:\n%s", state, h.run("exec", g, "--", "systemctl", "--failed", "--no-legend").stdout)
			}
			if out := h.must("exec", g, "--", "stat", "-c", "%u %U", "/usr/bin/passwd").stdout; out != "0 root\n" {
				t.Errorf("owner of /usr/bin/passwd in the guest: %q", out)
			}
			h.must("stop", g, "--timeout", "60s")
			h.assertGone(g)
		})
	}
}
