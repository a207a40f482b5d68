package templates

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/internal/testutil"
)

// fakeDebootstrapTree makes the few files of a debootstrap tree that
// ConfigureDebian reads or changes.
func fakeDebootstrapTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"lib/systemd/system/console-getty.service":    "[Unit]\n",
		"lib/systemd/system/systemd-networkd.service": "[Unit]\n",
		"lib/systemd/system/systemd-networkd.socket":  "[Unit]\n",
		"lib/systemd/system/getty@.service":           "[Unit]\n",
		"etc/machine-id":                              "83af69fe41f6491c9fe7b1e946a96414\n",
		"var/lib/dbus/machine-id":                     "83af69fe41f6491c9fe7b1e946a96414\n",
		"etc/hostname":                                "buildhost\n",
		"etc/fstab":                                   "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n",
	}
	for p, data := range files {
		writeTestFile(t, filepath.Join(dir, p), data)
	}
	link := filepath.Join(dir, "etc/systemd/system/getty.target.wants/getty@tty1.service")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/lib/systemd/system/getty@.service", link); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeTestFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkDebianTree checks what ConfigureDebian promises on a tree.
func checkDebianTree(t *testing.T, dir string, dhcp bool) {
	t.Helper()
	st, err := os.Stat(filepath.Join(dir, "etc/machine-id"))
	if err != nil || st.Size() != 0 {
		t.Errorf("/etc/machine-id: %v, size %v; want an empty file", err, st)
	}
	if target, err := os.Readlink(filepath.Join(dir, "var/lib/dbus/machine-id")); err != nil || target != "/etc/machine-id" {
		t.Errorf("/var/lib/dbus/machine-id -> %q, %v; want /etc/machine-id", target, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "etc/hostname")); err == nil {
		t.Error("/etc/hostname is still there: vmlite sets the hostname")
	}
	for _, e := range debianEnable {
		target, err := os.Readlink(filepath.Join(dir, "etc/systemd/system", e.link))
		if err != nil || target != e.unit {
			t.Errorf("%s -> %q, %v; want %s", e.link, target, err, e.unit)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "etc/systemd/system/getty.target.wants/getty@tty1.service")); err == nil {
		t.Error("getty@tty1.service is still enabled")
	}
	network, err := os.ReadFile(filepath.Join(dir, "etc/systemd/network/80-vmlite-eth0.network"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[Match]\nName=eth0\n", "KeepConfiguration=yes"} {
		if !strings.Contains(string(network), want) {
			t.Errorf("eth0 .network lacks %q:\n%s", want, network)
		}
	}
	conf, err := os.ReadFile(filepath.Join(dir, "etc/systemd/networkd.conf.d/vmlite.conf"))
	if err != nil || !strings.Contains(string(conf), "ManageForeignRoutes=no") {
		t.Errorf("networkd.conf.d/vmlite.conf: %v\n%s", err, conf)
	}
	journald, err := os.ReadFile(filepath.Join(dir, "etc/systemd/journald.conf.d/vmlite.conf"))
	for _, want := range []string{"[Journal]\n", "\nSystemMaxFileSize=8M\n", "\nRuntimeMaxFileSize=8M\n"} {
		if err != nil || !strings.Contains(string(journald), want) {
			t.Errorf("journald.conf.d/vmlite.conf lacks %q: %v\n%s", want, err, journald)
		}
	}
	dropIn, err := os.ReadFile(filepath.Join(dir, "etc/systemd/network/80-vmlite-eth0.network.d/dhcp.conf"))
	if dhcp != (err == nil && strings.Contains(string(dropIn), "DHCP=ipv4") && strings.Contains(string(dropIn), "UseHostname=no")) {
		t.Errorf("dhcp %v, but the DHCP drop-in: %q, %v", dhcp, dropIn, err)
	}
	if fstab, err := os.ReadFile(filepath.Join(dir, "etc/fstab")); err != nil || strings.Contains(string(fstab), "UNCONFIGURED") {
		t.Errorf("/etc/fstab: %q, %v", fstab, err)
	}
}

func TestConfigureDebian(t *testing.T) {
	dir := fakeDebootstrapTree(t)
	if err := ConfigureDebian(dir, DebianConfig{DHCP: true}); err != nil {
		t.Fatal(err)
	}
	checkDebianTree(t, dir, true)
	// Again without DHCP (a --force rebuild): the drop-in goes.
	if err := ConfigureDebian(dir, DebianConfig{}); err != nil {
		t.Fatal(err)
	}
	checkDebianTree(t, dir, false)
}

func TestConfigureDebianMissingUnit(t *testing.T) {
	dir := fakeDebootstrapTree(t)
	if err := os.Remove(filepath.Join(dir, "lib/systemd/system/systemd-networkd.service")); err != nil {
		t.Fatal(err)
	}
	err := ConfigureDebian(dir, DebianConfig{})
	if err == nil || !strings.Contains(err.Error(), "systemd-networkd.service") {
		t.Errorf("err = %v, want one naming systemd-networkd.service", err)
	}
}

func TestSetShadowPassword(t *testing.T) {
	shadow := "root:*:20779:0:99999:7:::\ndaemon:*:20779:0:99999:7:::\nrootless:x:1::::::"
	tests := []struct {
		user, field, want string
		wantErr           bool
	}{
		{"root", "", "root::20779:0:99999:7:::\ndaemon:*:20779:0:99999:7:::\nrootless:x:1::::::", false},
		{"root", "$y$j9T$salt$hash", "root:$y$j9T$salt$hash:20779:0:99999:7:::\ndaemon:*:20779:0:99999:7:::\nrootless:x:1::::::", false},
		{"rootless", "!", "root:*:20779:0:99999:7:::\ndaemon:*:20779:0:99999:7:::\nrootless:!:1::::::", false},
		{"nobody", "", "", true},
		{"root", "a:b", "", true},
	}
	for _, tc := range tests {
		got, err := SetShadowPassword([]byte(shadow), tc.user, tc.field)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s=%q: no error", tc.user, tc.field)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s=%q: %q, %v\nwant %q", tc.user, tc.field, got, err, tc.want)
		}
	}
}

func FuzzSetShadowPassword(f *testing.F) {
	f.Add("root:*:1:0:99999:7:::\n", "root", "")
	f.Add("a:b\nroot\n", "root", "x")
	f.Fuzz(func(t *testing.T, data, user, field string) {
		got, err := SetShadowPassword([]byte(data), user, field)
		if err != nil {
			return
		}
		// Only password fields change: the line count and the user names stay.
		if bytes.Count(got, []byte("\n")) != strings.Count(data, "\n") {
			t.Fatalf("line count changed: %q -> %q", data, got)
		}
	})
}

func TestDebianPackages(t *testing.T) {
	got, err := debianPackages([]string{"nginx", " systemd ", "", "python3.11", "libc++1"})
	if err != nil {
		t.Fatal(err)
	}
	want := "dbus,iproute2,libc++1,nginx,python3.11,systemd,systemd-sysv"
	if strings.Join(got, ",") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	for _, bad := range []string{"Nginx", "a", "x;rm", "-opt", "pkg name"} {
		if _, err := debianPackages([]string{bad}); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", bad, err)
		}
	}
	// The cache key covers the package set, not the order it was given in.
	a, _ := debianPackages([]string{"curl", "nginx"})
	b, _ := debianPackages([]string{"nginx", "curl", "nginx"})
	c, _ := debianPackages([]string{"nginx"})
	if CacheKey("bookworm", "amd64", a) != CacheKey("bookworm", "amd64", b) {
		t.Error("same packages, different keys")
	}
	if CacheKey("bookworm", "amd64", a) == CacheKey("bookworm", "amd64", c) || CacheKey("bookworm", "amd64", a) == CacheKey("trixie", "amd64", a) {
		t.Error("different packages or suites share a key")
	}
	if k := CacheKey("bookworm", "amd64", c); !strings.HasPrefix(k, "debian-bookworm-amd64-") || len(k) != len("debian-bookworm-amd64-")+12 {
		t.Errorf("key %q", k)
	}
}

func TestBuildDebianRefuses(t *testing.T) {
	cache := t.TempDir()
	tests := []struct {
		name string
		o    DebianOptions
	}{
		{"bad suite", DebianOptions{Suite: "Bookworm;", CacheDir: cache}},
		{"both passwords", DebianOptions{RootPassword: "x", NoRootPassword: true, CacheDir: cache}},
		{"multi-line password", DebianOptions{RootPassword: "x\nroot:y", CacheDir: cache}},
		{"bad package", DebianOptions{Include: []string{"../x"}, CacheDir: cache}},
		{"no cache", DebianOptions{}},
	}
	for _, tc := range tests {
		dir := filepath.Join(t.TempDir(), "g")
		if err := BuildDebian(context.Background(), dir, tc.o); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s: a refused build created %s", tc.name, dir)
		}
	}
}

// DebianTestCache is where the privileged tests keep their debootstrap
// trees. It is outside any temporary directory on purpose: debootstrap takes
// minutes, so the first run on a machine fills it and later runs (CI on the
// same machine included) copy from it in seconds. `rm -rf` it to start over.
const DebianTestCache = "/var/cache/vmlite-test"

// TestBuildDebian runs debootstrap for real (first run: minutes; then the
// cache) and checks the tree a Debian guest boots from.
func TestBuildDebian(t *testing.T) {
	testutil.RequireRoot(t)
	if testing.Short() {
		t.Skip("SKIPPED LOUDLY: -short: debootstrap takes minutes on an empty cache")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	dir := filepath.Join(t.TempDir(), "deb")
	var log bytes.Buffer
	err := BuildDebian(ctx, dir, DebianOptions{CacheDir: DebianTestCache, RootPassword: "vmlite-test", Log: &log})
	t.Logf("build log:\n%s", log.String())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "using the cached tree") && !strings.Contains(log.String(), "[6/6]") {
		t.Error("neither the cache nor debootstrap progress lines in the log")
	}

	if target, err := os.Readlink(filepath.Join(dir, "sbin/init")); err != nil || !strings.HasSuffix(target, "systemd/systemd") {
		t.Errorf("/sbin/init -> %q, %v; want systemd", target, err)
	}
	for _, p := range []string{"lib/systemd/systemd", "usr/bin/dbus-daemon", "bin/ip", "sbin/agetty", "lib/systemd/systemd-networkd"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("/%s: %v", p, err)
		}
	}
	checkDebianTree(t, dir, false)
	// The guest's own systemctl agrees about what is enabled.
	out, err := exec.CommandContext(ctx, "chroot", dir, "systemctl", "is-enabled",
		"console-getty.service", "systemd-networkd.service", "systemd-networkd.socket", "getty@tty1.service").CombinedOutput()
	if got := strings.Fields(string(out)); strings.Join(got, " ") != "enabled enabled enabled disabled" {
		t.Errorf("chroot systemctl is-enabled: %q, %v; want enabled x3, disabled", out, err)
	}
	shadow, err := os.ReadFile(filepath.Join(dir, "etc/shadow"))
	if err != nil {
		t.Fatal(err)
	}
	rootHash := strings.Split(strings.SplitN(string(shadow), "\n", 2)[0], ":")
	if rootHash[0] != "root" || !strings.HasPrefix(rootHash[1], "$") {
		t.Errorf("root's shadow entry %q: want a crypt hash", rootHash)
	}

	// The second build comes from the cache: no debootstrap, seconds.
	dir2 := filepath.Join(t.TempDir(), "deb2")
	log.Reset()
	start := time.Now()
	if err := BuildDebian(ctx, dir2, DebianOptions{CacheDir: DebianTestCache, NoRootPassword: true, DHCP: true, Log: &log}); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	took := time.Since(start)
	if !strings.Contains(log.String(), "using the cached tree") {
		t.Errorf("second build did not use the cache:\n%s", log.String())
	}
	if took > 90*time.Second {
		t.Errorf("cached build took %v", took)
	}
	t.Logf("cached build: %v", took)
	checkDebianTree(t, dir2, true)
	shadow, err = os.ReadFile(filepath.Join(dir2, "etc/shadow"))
	if err != nil || !strings.HasPrefix(string(shadow), "root::") {
		t.Errorf("--no-root-password: shadow starts %q, %v", shadow[:min(len(shadow), 20)], err)
	}
	// The pristine cache was not configured in place.
	key := filepath.Join(DebianTestCache, CacheKey(DefaultSuite, debianArch(), mustPackages(t, nil)))
	if _, err := os.Stat(filepath.Join(key, "etc/systemd/network/80-vmlite-eth0.network")); err == nil {
		t.Error("the cached tree was modified")
	}
}

func mustPackages(t *testing.T, include []string) []string {
	t.Helper()
	p, err := debianPackages(include)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBuildDebianCancelled: an interrupted build (Ctrl-C in debootstrap)
// leaves neither the target directory nor a half-made cache tree.
func TestBuildDebianCancelled(t *testing.T) {
	testutil.RequireRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cache := t.TempDir()
	dir := filepath.Join(t.TempDir(), "deb")
	if err := BuildDebian(ctx, dir, DebianOptions{CacheDir: cache, Mirror: "http://mirror.invalid/debian"}); err == nil {
		t.Fatal("cancelled build succeeded")
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cancelled build left %s (%v)", dir, err)
	}
	ents, _ := os.ReadDir(cache)
	for _, e := range ents {
		if e.IsDir() {
			t.Errorf("cancelled build left %s in the cache", e.Name())
		}
	}
}
