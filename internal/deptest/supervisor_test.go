package deptest

import (
	"strings"
	"testing"
)

// TestSupervisorIsSmall: the supervisor's own binary
// (cmd/vmlite-supervisor, one process per up to 32 guests, started by
// every start that starts a supervisor and resident for as long as its
// guests run) links only what a running guest needs: no image store or
// registry client (a guest layer's record is package image/layer), no
// BPF library (cgroup/devices loads its program itself), no go-fuse
// (procfs serves on internal/fuseraw), no XML front end, managed
// networks, RPC server, CLI, TLS or HTTP.
func TestSupervisorIsSmall(t *testing.T) {
	banned := []string{
		"vmlite/service", "vmlite/launch", "vmlite/domain", "vmlite/image", "vmlite/netdef",
		"vmlite/cmd/vmlite/cli", "vmlite/libvirtrpc", "vmlite/supervisor/client", "vmlite/enter", "vmlite/templates",
		"github.com/google/go-containerregistry/", "github.com/klauspost/compress/", "github.com/ulikunitz/xz",
		"github.com/opencontainers/", "github.com/docker/", "golang.org/x/crypto/", "crypto/tls", "crypto/x509",
		"net/http", "github.com/google/nftables", "github.com/cilium/ebpf", "libvirt.org/",
		"github.com/digitalocean/", "github.com/spf13/", "github.com/hanwen/go-fuse/", "regexp", "encoding/xml",
	}
	for _, pkg := range []string{"vmlite/cmd/vmlite-supervisor", "vmlite/supervisor"} {
		for _, d := range deps(t, pkg) {
			for _, b := range banned {
				// "vmlite/image" bans the store, not image/layer below it.
				sub := strings.HasPrefix(d, b+"/") && b != "vmlite/image"
				if d == b || strings.HasSuffix(b, "/") && strings.HasPrefix(d, b) || sub {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
}
