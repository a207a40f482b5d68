package idfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestLookup(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\nbob:x:1000:100::/home/bob:/bin/sh\nbad:x:zz:1::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		want    Entry
		wantErr error
		anyErr  bool
	}{
		{"root", Entry{0, 0, "/root"}, nil, false},
		{"bob", Entry{1000, 100, "/home/bob"}, nil, false},
		{"42", Entry{42, 42, "/"}, nil, false},
		{"+7", Entry{7, 7, "/"}, nil, false},
		{"nobody", Entry{}, ErrNoEntry, true},
		{"bad", Entry{}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Lookup(passwd, tc.name)
			if (err != nil) != tc.anyErr {
				t.Fatalf("Lookup(%q) error = %v", tc.name, err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Lookup(%q) error = %v, want %v", tc.name, err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Fatalf("Lookup(%q) = %+v, want %+v", tc.name, got, tc.want)
			}
		})
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add("root:x:0:0:root:/root:/bin/sh", "root")
	f.Add("a:b", "a")
	f.Fuzz(func(t *testing.T, line, name string) {
		_, _, _ = parseLine(line, name)
	})
}

// TestLookupRefusesNonRegular: the guest writes these files; a FIFO must
// be refused at once (it used to block the reader forever), a directory too.
func TestLookupRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, dir} {
		done := make(chan error, 1)
		go func() { _, err := Lookup(p, "root"); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("Lookup(%s) = %v, want ErrNotRegular", p, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("Lookup(%s) blocked", p)
		}
	}
}
