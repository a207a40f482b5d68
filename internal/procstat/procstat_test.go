package procstat

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	rest := " 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 1000 10"
	for _, c := range []struct {
		line  string
		state byte
	}{
		{"1 (init)" + " S" + rest, 'S'},
		{"7 (a) b) (c)" + " Z" + rest, 'Z'}, // a command name with spaces and parentheses
	} {
		s, err := Parse([]byte(c.line))
		if err != nil || s.State != c.state || s.StartTime != 4242 {
			t.Errorf("Parse(%q) = %+v, %v", c.line, s, err)
		}
	}
	if s, _ := Parse([]byte("7 (a) Z" + rest)); !s.Zombie() {
		t.Error("state Z is not a zombie")
	}
	for _, bad := range []string{"", "1 init S 1", "1 (init) S 1 2 3", "1 (init) SS" + rest, "1 (init) S" + strings.Replace(rest, "4242", "x", 1)} {
		if s, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, s)
		}
	}
}

func TestRead(t *testing.T) {
	s, err := Read(os.Getpid())
	if err != nil || s.StartTime == 0 || s.Zombie() {
		t.Errorf("Read(self) = %+v, %v", s, err)
	}
	if _, err := Read(1 << 30); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read of no process: %v, want ErrNotExist", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("1 (init) S 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 1000 10"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err == nil && s.State == 0 {
			t.Fatalf("Parse(%q) = %+v without a state", b, s)
		}
	})
}
