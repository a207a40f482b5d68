package idfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
