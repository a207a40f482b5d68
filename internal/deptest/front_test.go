package deptest

import (
	"strings"
	"testing"
)

// TestFrontIsSmall: the front binary (`vmlite`, cmd/vmlite-front) that
// serves stop, destroy and console links none of the packages whose
// initialisers made every command of the full binary slow to start, nor
// vmlite's layers above the control protocol. Its fast path
// (cmd/internal/front) is what the full binary runs first too.
func TestFrontIsSmall(t *testing.T) {
	banned := []string{
		"vmlite/service", "vmlite/launch", "vmlite/domain", "vmlite/image", "vmlite/netdef",
		"vmlite/procfs", "vmlite/guestnet", "vmlite/cgroup", "vmlite/cmd/vmlite/cli", "vmlite/libvirtrpc",
		"github.com/google/go-containerregistry/", "github.com/klauspost/compress/", "github.com/ulikunitz/xz",
		"github.com/opencontainers/", "github.com/hanwen/go-fuse/", "golang.org/x/crypto/", "crypto/tls",
		"net/http", "github.com/google/nftables", "github.com/cilium/ebpf", "github.com/vishvananda/",
		"libvirt.org/", "github.com/digitalocean/", "github.com/spf13/", "regexp",
	}
	for _, pkg := range []string{"vmlite/cmd/vmlite-front", "vmlite/cmd/internal/front"} {
		for _, d := range deps(t, pkg) {
			if d == "vmlite/supervisor" {
				t.Errorf("%s depends on vmlite/supervisor (the protocol is vmlite/supervisor/ctl)", pkg)
			}
			for _, b := range banned {
				if d == b || strings.HasSuffix(b, "/") && strings.HasPrefix(d, b) || strings.HasPrefix(d, b+"/") {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
}
