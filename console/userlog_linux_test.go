package console

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"vmlite/internal/testutil"
)

// TestUserLog: <console><log file=...> gets the console output too, with
// vmlite's cap and rotation, mode 0600, truncated unless append='on'.
func TestUserLog(t *testing.T) {
	for _, appendTo := range []bool{false, true} {
		dir := t.TempDir()
		user := filepath.Join(dir, "console.log")
		if err := os.WriteFile(user, []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fresh := filepath.Join(dir, "fresh.log")
		for _, path := range []string{user, fresh} {
			f := newFixture(t, Config{LogMaxBytes: 4096, UserLogPath: path, UserLogAppend: appendTo})
			f.rawSlave(t)
			var all bytes.Buffer
			for i := 0; i < 200; i++ {
				line := strings.Repeat(string(rune('a'+i%26)), 50) + "\n"
				all.WriteString(line)
				if _, err := f.slave.WriteString(line); err != nil {
					t.Fatal(err)
				}
			}
			read := func() []byte {
				old, _ := os.ReadFile(RotatedPath(path))
				cur, _ := os.ReadFile(path)
				return append(old, cur...)
			}
			testutil.WaitFor(t, waitLong, "user log holds the tail of the output", func() bool {
				return bytes.HasSuffix(read(), all.Bytes()[all.Len()-100:])
			})
			if err := f.m.Close(); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, RotatedPath(path)} {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() > 4096 {
					t.Errorf("%s is %d bytes, cap 4096", p, st.Size())
				}
				if path == fresh && st.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
				}
			}
		}
		// Too much output rotated "old" away either way; a short run shows
		// append against truncate.
		short := filepath.Join(dir, "short.log")
		if err := os.WriteFile(short, []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, Config{UserLogPath: short, UserLogAppend: appendTo})
		f.rawSlave(t)
		if _, err := f.slave.WriteString("new\n"); err != nil {
			t.Fatal(err)
		}
		want := "new\n"
		if appendTo {
			want = "old\nnew\n"
		}
		testutil.WaitFor(t, waitLong, "short user log written", func() bool {
			b, _ := os.ReadFile(short)
			return string(b) == want
		})
	}
}

// TestUserLogSymlinkRefused: the host path is never followed through a
// symlink (the supervisor is root; the path comes from the domain).
func TestUserLogSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	defer master.Close()
	m, err := NewMux(Config{Master: master, UserLogPath: link})
	if err == nil {
		m.Close()
		t.Fatal("a symlinked user log was opened")
	}
	if !strings.Contains(err.Error(), link) {
		t.Errorf("error does not name the file: %v", err)
	}
}
