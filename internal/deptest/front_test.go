package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFrontIsSmall: the front binary (`vmlite`, cmd/vmlite-front) that
// serves stop, destroy, console and a start into a running shared
// supervisor links none of the packages whose initialisers made every
// command of the full binary slow to start, nor vmlite's layers above the
// plan builder and the supervisor's protocols (supervisor/ctl). Its fast
// path (cmd/internal/front) is what the full binary runs first too. It
// links the XML front end (domain, libvirtxml) and the plan builder
// (launch) for the start, and so every package they link stays as light:
// no regexp compiled at start-up (only internal/lazyre imports regexp),
// no netlink (the link names are guestnet/linkname's).
func TestFrontIsSmall(t *testing.T) {
	banned := []string{
		"vmlite/service", "vmlite/image", "vmlite/netdef",
		"vmlite/procfs", "vmlite/guestnet", "vmlite/cgroup", "vmlite/cmd/vmlite/cli", "vmlite/libvirtrpc",
		"vmlite/supervisor/client", "vmlite/initsys", "vmlite/enter",
		"github.com/google/go-containerregistry/", "github.com/klauspost/compress/", "github.com/ulikunitz/xz",
		"github.com/opencontainers/", "github.com/hanwen/go-fuse/", "golang.org/x/crypto/", "crypto/tls",
		"net/http", "github.com/google/nftables", "github.com/cilium/ebpf", "github.com/vishvananda/",
		"github.com/digitalocean/", "github.com/spf13/",
	}
	allowed := map[string]bool{"vmlite/guestnet/linkname": true}
	for _, pkg := range []string{"vmlite/cmd/vmlite-front", "vmlite/cmd/internal/front"} {
		for _, d := range deps(t, pkg) {
			if d == "vmlite/supervisor" {
				t.Errorf("%s depends on vmlite/supervisor (the protocol is vmlite/supervisor/ctl)", pkg)
			}
			for _, b := range banned {
				if !allowed[d] && (d == b || strings.HasSuffix(b, "/") && strings.HasPrefix(d, b) || strings.HasPrefix(d, b+"/")) {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
		for imp, by := range importersOf(t, pkg, "regexp") {
			if imp != "vmlite/internal/lazyre" {
				t.Errorf("%s links %s, which imports regexp (%s): compile on first use (internal/lazyre), not at start-up", pkg, imp, by)
			}
		}
	}
}

// importersOf returns the packages among pkg's dependencies that import
// target directly.
func importersOf(t *testing.T, pkg, target string) map[string]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp == target {
				m[f[0]] = target
			}
		}
	}
	return m
}
