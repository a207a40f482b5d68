package console

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestLogFileRotation(t *testing.T) {
	tests := []struct {
		name   string
		max    int64
		writes []int // sizes
	}{
		{"under cap", 100, []int{10, 20, 30}},
		{"one rotation", 100, []int{60, 60}},
		{"many rotations", 100, []int{30, 30, 30, 30, 30, 30, 30, 30}},
		{"chunk larger than cap", 100, []int{10, 250, 5}},
		{"chunk larger than both files", 100, []int{30, 1000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "g.console.log")
			l, err := openLog(path, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			var all []byte
			for i, n := range tc.writes {
				p := bytes.Repeat([]byte{byte('a' + i)}, n)
				l.Write(p)
				all = append(all, p...)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			cur, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			old, err := os.ReadFile(RotatedPath(path))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			// The two files together are a suffix of the output, and each is
			// within the cap, even when one write alone exceeds it.
			both := append(old, cur...)
			if !bytes.HasSuffix(all, both) {
				t.Fatalf("log %q + %q is not a suffix of the output", old, cur)
			}
			if int64(len(cur)) > tc.max || int64(len(old)) > tc.max {
				t.Fatalf("log files are %d and %d bytes, cap %d", len(old), len(cur), tc.max)
			}
			if len(both) < min(len(all), int(tc.max)) {
				t.Fatalf("log keeps %d bytes, want at least %d", len(both), min(len(all), int(tc.max)))
			}
		})
	}
}

func TestLogFileAppendsAcrossRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.console.log")
	for _, s := range []string{"first boot\n", "second boot\n"} {
		l, err := openLog(path, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		l.Write([]byte(s))
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "first boot\nsecond boot\n" {
		t.Fatalf("log = %q", got)
	}
}
