package templates

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetRootPassword: the hash is made on the host side, and an
// independent implementation (openssl's) computes the same hash from the
// salt, so pam_unix will accept the password.
func TestSetRootPassword(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	shadow := "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
	if err := os.WriteFile(filepath.Join(dir, "etc/shadow"), []byte(shadow), 0o640); err != nil {
		t.Fatal(err)
	}
	const pw = "s3cret pass"
	if err := setRootLogin(context.Background(), dir, pw, false); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "etc/shadow"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	f := strings.Split(lines[0], ":")
	if f[0] != "root" || !strings.HasPrefix(f[1], "$6$") {
		t.Fatalf("root's entry %q: want a $6$ hash", lines[0])
	}
	if lines[1] != "daemon:*:19000:0:99999:7:::" {
		t.Errorf("another entry changed: %q", lines[1])
	}
	salt := strings.Split(f[1], "$")[2]
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skipf("SKIPPED LOUDLY: no openssl to check the hash against (scripts/install-deps.sh installs it): %v", err)
	}
	out, err := exec.Command(openssl, "passwd", "-6", "-salt", salt, pw).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != f[1] {
		t.Errorf("openssl passwd -6 -salt %s: %s, vmlite wrote %s", salt, got, f[1])
	}
	if _, err := HashPassword("a\nb"); err == nil {
		t.Error("a password with a newline was hashed")
	}
}
