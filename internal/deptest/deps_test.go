// Package deptest holds the import-direction test: it fails when a lower
// package imports a higher one, so the layout stays the architecture.
package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

// imports returns each vmlite package with its direct vmlite imports.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "vmlite/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, "vmlite/") {
				m[f[0]] = append(m[f[0]], imp)
			}
		}
		if _, ok := m[f[0]]; !ok {
			m[f[0]] = nil
		}
	}
	return m
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestContractIsPure: plan imports nothing of vmlite.
func TestContractIsPure(t *testing.T) {
	for _, d := range deps(t, "vmlite/plan") {
		if strings.HasPrefix(d, "vmlite/") && d != "vmlite/plan" {
			t.Errorf("vmlite/plan depends on %s", d)
		}
	}
}

// TestInitStageHasNoXML: the guest's init stage (cmd/vmlite-init, cloned
// for every guest) links none of the XML front end, and neither do the
// mechanism packages it is built from.
func TestInitStageHasNoXML(t *testing.T) {
	for _, pkg := range []string{"vmlite/cmd/vmlite-init", "vmlite/cgroup", "vmlite/initsys"} {
		for _, d := range deps(t, pkg) {
			if d == "vmlite/domain" || strings.HasPrefix(d, "vmlite/domain/") || strings.HasPrefix(d, "libvirt.org/") {
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
}

// TestProcFSServerIsSmall: the /proc server's own binary
// (cmd/vmlite-procfs, a long-lived daemon whose memory is measured
// against LXCFS's) links none of vmlite's front end or supervisor, nor
// package state (its instance id brings crypto: the server takes the lock
// and atomic-file helpers from internal/runfile) or any crypto, nor
// go-fuse (it is served by internal/fuseraw: go-fuse's server alone is
// about 1.5 MiB of its memory).
func TestProcFSServerIsSmall(t *testing.T) {
	for _, d := range deps(t, "vmlite/cmd/vmlite-procfs") {
		for _, banned := range []string{"vmlite/domain", "vmlite/supervisor", "vmlite/launch", "vmlite/service", "vmlite/cmd/vmlite", "vmlite/initsys", "libvirt.org/", "github.com/hanwen/go-fuse/", "vmlite/state", "crypto"} {
			if d == banned || strings.HasPrefix(d, banned+"/") || strings.HasSuffix(banned, "/") && strings.HasPrefix(d, banned) {
				t.Errorf("vmlite/cmd/vmlite-procfs depends on %s", d)
			}
		}
	}
}

// TestLayers: no package imports one above it.
func TestLayers(t *testing.T) {
	higher := map[string][]string{
		// package (prefix) -> packages it must not import
		"vmlite/plan":   {"vmlite/"},
		"vmlite/domain": {"vmlite/launch", "vmlite/service", "vmlite/supervisor", "vmlite/cmd/"},
		"vmlite/cgroup": {"vmlite/launch", "vmlite/service", "vmlite/supervisor", "vmlite/cmd/"},
		"vmlite/netdef": {"vmlite/launch", "vmlite/service", "vmlite/supervisor", "vmlite/cmd/"},
		// A guest's interfaces sit below the managed networks: netdef
		// names its bridges with guestnet's rules, never the other way;
		// the supervisor sets interfaces up and needs no network code.
		"vmlite/guestnet":          {"vmlite/netdef", "vmlite/launch", "vmlite/service", "vmlite/supervisor", "vmlite/cmd/"},
		"vmlite/uidmap":            {"vmlite/launch", "vmlite/service", "vmlite/supervisor", "vmlite/cmd/"},
		"vmlite/initsys":           {"vmlite/launch", "vmlite/service", "vmlite/supervisor", "vmlite/cmd/", "vmlite/domain"},
		"vmlite/supervisor":        {"vmlite/launch", "vmlite/service", "vmlite/supervisor/client", "vmlite/cmd/", "vmlite/netdef"},
		"vmlite/supervisor/client": {"vmlite/launch", "vmlite/service", "vmlite/cmd/"},
		"vmlite/launch":            {"vmlite/service", "vmlite/cmd/"},
		"vmlite/service":           {"vmlite/cmd/"},
	}
	for pkg, imps := range imports(t) {
		for rule, banned := range higher {
			if pkg != rule && !strings.HasPrefix(pkg, rule+"/") || pkg == "vmlite/supervisor/client" && rule == "vmlite/supervisor" {
				continue
			}
			for _, imp := range imps {
				for _, b := range banned {
					if imp == b || strings.HasPrefix(imp, b) && strings.HasSuffix(b, "/") {
						t.Errorf("%s imports %s (a higher layer)", pkg, imp)
					}
				}
			}
		}
		for _, imp := range imps {
			if imp == "vmlite/cmd/vmlite/cli" && pkg != "vmlite/cmd/vmlite" {
				t.Errorf("%s imports vmlite/cmd/vmlite/cli; only cmd/vmlite may", pkg)
			}
		}
	}
}
