package templates

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
)

// requireBusybox skips, loudly, where busybox-static is not installed (CI
// installs it: scripts/install-deps.sh).
func requireBusybox(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(DebianBusybox); err != nil {
		t.Skip("SKIPPED LOUDLY: needs busybox-static (" + DebianBusybox + "): run scripts/install-deps.sh")
	}
}

func buildBusybox(t *testing.T) string {
	t.Helper()
	requireBusybox(t)
	dir := filepath.Join(t.TempDir(), "guest")
	var log bytes.Buffer
	if err := BuildBusybox(context.Background(), dir, BusyboxOptions{Log: &log}); err != nil {
		t.Fatalf("BuildBusybox: %v\nlog:\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "linked") {
		t.Errorf("no progress lines in the log:\n%s", log.String())
	}
	return dir
}

func TestBuildBusyboxTree(t *testing.T) {
	dir := buildBusybox(t)

	// /sbin/init and the shell are applet links to the static binary.
	for _, link := range []string{"sbin/init", "bin/sh", "bin/mount", "sbin/ip", "bin/hostname", "sbin/reboot", "bin/umount"} {
		target, err := os.Readlink(filepath.Join(dir, link))
		if err != nil {
			t.Errorf("/%s: %v", link, err)
			continue
		}
		if target != "/bin/busybox" {
			t.Errorf("/%s -> %s, want /bin/busybox", link, target)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "bin/busybox"))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm() != 0o755 {
		t.Errorf("/bin/busybox mode %v, want a 0755 regular file", st.Mode())
	}
	if err := checkStatic(filepath.Join(dir, "bin/busybox")); err != nil {
		t.Errorf("installed busybox: %v", err)
	}

	modes := map[string]os.FileMode{
		".":                               os.ModeDir | 0o755,
		"tmp":                             os.ModeDir | os.ModeSticky | 0o777,
		"marker":                          os.ModeDir | os.ModeSticky | 0o777,
		"root":                            os.ModeDir | 0o700,
		"proc":                            os.ModeDir | 0o555,
		"etc/init.d/rcS":                  0o755,
		"etc/init.d/rcK":                  0o755,
		"usr/share/udhcpc/default.script": 0o755,
		"etc/inittab":                     0o644,
		"etc/passwd":                      0o644,
		"etc/group":                       0o644,
		"etc/fstab":                       0o644,
		"etc/shadow":                      0o600,
	}
	for p, want := range modes {
		st, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Errorf("/%s: %v", p, err)
			continue
		}
		if st.Mode() != want {
			t.Errorf("/%s mode %v, want %v", p, st.Mode(), want)
		}
	}
	if target, err := os.Readlink(filepath.Join(dir, "var/run")); err != nil || target != "/run" {
		t.Errorf("/var/run -> %q (%v), want /run", target, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "etc/hostname")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("/etc/hostname exists (%v): vmlite sets the hostname", err)
	}

	// Tiny: the static binary plus a few KiB.
	var size int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	if size > 4<<20 {
		t.Errorf("tree holds %d bytes, want under 4 MiB", size)
	}
}

func TestBusyboxInittab(t *testing.T) {
	dir := buildBusybox(t)
	f, err := os.Open(filepath.Join(dir, "etc/inittab"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := ParseInittab(f)
	if err != nil {
		t.Fatalf("inittab: %v", err)
	}
	byAction := map[string][]string{}
	for _, e := range entries {
		if e.ID != "" {
			t.Errorf("line %d runs on %q; every process belongs on the console", e.Line, e.ID)
		}
		byAction[e.Action] = append(byAction[e.Action], e.Process)
	}
	want := map[string][]string{
		"sysinit":    {"/etc/init.d/rcS"},
		"respawn":    {"-/bin/sh"},
		"ctrlaltdel": {"/sbin/reboot"},
		"shutdown":   {"/etc/init.d/rcK", "/bin/umount -a 2>/dev/null"},
		"restart":    {"/sbin/init"},
	}
	for action, procs := range want {
		if strings.Join(byAction[action], "|") != strings.Join(procs, "|") {
			t.Errorf("%s: %q, want %q", action, byAction[action], procs)
		}
	}
	// Every program the inittab runs exists in the tree.
	for _, e := range entries {
		prog := strings.Fields(strings.TrimPrefix(e.Process, "-"))[0]
		if _, err := os.Stat(filepath.Join(dir, prog)); err != nil {
			// Stat follows the absolute applet links into the host's /bin/busybox,
			// so check the link itself too.
			if _, lerr := os.Lstat(filepath.Join(dir, prog)); lerr != nil {
				t.Errorf("line %d runs %s, missing from the tree: %v", e.Line, prog, lerr)
			}
		}
	}
}

func TestBusyboxScriptsParse(t *testing.T) {
	dir := buildBusybox(t)
	for _, s := range []string{"etc/init.d/rcS", "etc/init.d/rcK", "usr/share/udhcpc/default.script", "etc/profile"} {
		out, err := exec.Command(DebianBusybox, "sh", "-n", filepath.Join(dir, s)).CombinedOutput()
		if err != nil {
			t.Errorf("busybox sh -n /%s: %v\n%s", s, err, out)
		}
	}
	rcS, err := os.ReadFile(filepath.Join(dir, "etc/init.d/rcS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"vmlite-guest: BOOTED $host", "/marker/booted", "ip link set lo up"} {
		if !bytes.Contains(rcS, []byte(want)) {
			t.Errorf("rcS lacks %q", want)
		}
	}
}

func TestBusyboxAccounts(t *testing.T) {
	dir := buildBusybox(t)
	tests := []struct {
		file, line string
	}{
		{"etc/passwd", "root:x:0:0:root:/root:/bin/sh"},
		{"etc/passwd", "nobody:x:65534:65534:"},
		{"etc/group", "root:x:0:"},
		{"etc/group", "nobody:x:65534:"},
	}
	for _, tc := range tests {
		b, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, tc.line) {
				found = true
			}
		}
		if !found {
			t.Errorf("/%s has no line starting %q:\n%s", tc.file, tc.line, b)
		}
	}
}

func TestBuildBusyboxRefusesNonEmptyDir(t *testing.T) {
	requireBusybox(t)
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := BuildBusybox(context.Background(), dir, BusyboxOptions{})
	if !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("build into a non-empty dir: %v, want ErrAlreadyExists", err)
	}
	// --force builds over it, twice (links and files replaced), and leaves other files.
	for i := 0; i < 2; i++ {
		if err := BuildBusybox(context.Background(), dir, BusyboxOptions{Force: true}); err != nil {
			t.Fatalf("forced build %d: %v", i, err)
		}
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Errorf("forced build touched an unrelated file: %q, %v", b, err)
	}
	if _, err := os.Readlink(filepath.Join(dir, "sbin/init")); err != nil {
		t.Errorf("forced build: %v", err)
	}
}

func TestCheckStatic(t *testing.T) {
	text := filepath.Join(t.TempDir(), "text")
	if err := os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkStatic(text); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("script: %v, want ErrInvalid", err)
	}
	// /bin/ls is dynamically linked on every glibc distribution.
	if err := checkStatic("/bin/ls"); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("/bin/ls: %v, want a dynamically-linked error", err)
	}
	requireBusybox(t)
	if err := checkStatic(DebianBusybox); err != nil {
		t.Errorf("%s: %v", DebianBusybox, err)
	}
}

func TestFileMode(t *testing.T) {
	tests := []struct {
		rel  string
		data string
		want os.FileMode
	}{
		{"etc/init.d/rcS", "#!/bin/sh\n", 0o755},
		{"etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0o644},
		{"etc/shadow", "root:*:1::::::\n", 0o600},
		{"etc/fstab", "", 0o644},
	}
	for _, tc := range tests {
		if got := fileMode(tc.rel, []byte(tc.data)); got != tc.want {
			t.Errorf("fileMode(%s) = %v, want %v", tc.rel, got, tc.want)
		}
	}
}

func TestBuildBusyboxFailureLeavesNothing(t *testing.T) {
	requireBusybox(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the applet listing cannot run: a failure after the directory was made
	dir := filepath.Join(t.TempDir(), "guest")
	if err := BuildBusybox(ctx, dir, BusyboxOptions{}); err == nil {
		t.Fatal("build with a cancelled context succeeded")
	}
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed build left %s behind (%v)", dir, err)
	}
	// A directory that existed before stays, even empty.
	pre := t.TempDir()
	if err := BuildBusybox(ctx, pre, BusyboxOptions{}); err == nil {
		t.Fatal("build with a cancelled context succeeded")
	}
	if _, err := os.Stat(pre); err != nil {
		t.Errorf("failed build removed the existing %s: %v", pre, err)
	}
}
