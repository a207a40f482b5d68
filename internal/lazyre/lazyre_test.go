package lazyre

import (
	"sync"
	"testing"
)

func TestMatchString(t *testing.T) {
	tests := []struct {
		expr, in string
		want     bool
	}{
		{`^[a-z][a-z0-9.-]{0,63}$`, "bookworm", true},
		{`^[a-z][a-z0-9.-]{0,63}$`, "Bookworm", false},
		{`^console[0-9]+$`, "console12", true},
		{`^console[0-9]+$`, "console", false},
	}
	for _, tt := range tests {
		r := New(tt.expr)
		if r.String() != tt.expr {
			t.Errorf("String() = %q", r.String())
		}
		if got := r.MatchString(tt.in); got != tt.want {
			t.Errorf("%s.MatchString(%q) = %v, want %v", tt.expr, tt.in, got, tt.want)
		}
	}
}

func TestCompiledOnceConcurrently(t *testing.T) {
	r := New(`^x+$`)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !r.MatchString("xxx") {
				t.Error("no match")
			}
		}()
	}
	wg.Wait()
	first := r.Re()
	if again := r.Re(); again != first {
		t.Error("compiled more than once")
	}
}

func TestBadExpressionPanicsOnUse(t *testing.T) {
	r := New(`(`) // creating it must not panic
	defer func() {
		if recover() == nil {
			t.Error("no panic for a bad expression")
		}
	}()
	r.MatchString("x")
}
