package revert

import (
	"errors"
	"reflect"
	"testing"
)

func TestReverter(t *testing.T) {
	tests := []struct {
		name    string
		success bool
		failing int // index of a step whose undo fails, -1 none
		want    []int
		wantErr bool
	}{
		{"fail undoes in reverse", false, -1, []int{2, 1, 0}, false},
		{"success keeps all", true, -1, nil, false},
		{"undo errors are joined and the rest still runs", false, 1, []int{2, 1, 0}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			r := New()
			for i := 0; i < 3; i++ {
				i := i
				r.Add("step", func() error {
					got = append(got, i)
					if i == tc.failing {
						return errors.New("boom")
					}
					return nil
				})
			}
			if tc.success {
				r.Success()
			}
			err := r.Fail()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Fail() error = %v, wantErr %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("undo order = %v, want %v", got, tc.want)
			}
			// Undo runs each function once only.
			got = nil
			_ = r.Undo()
			if !tc.success && got != nil {
				t.Fatalf("second Undo ran %v", got)
			}
		})
	}
}

// TestKeepFailed: a failed undo is tried again by the next Undo, one that
// succeeded is not; without the option every function runs once.
func TestKeepFailed(t *testing.T) {
	for _, keep := range []bool{false, true} {
		var opts []Option
		if keep {
			opts = append(opts, KeepFailed)
		}
		r := New(opts...)
		runs := map[string]int{}
		busy := true
		r.Add("a", func() error { runs["a"]++; return nil })
		r.Add("b", func() error {
			runs["b"]++
			if busy {
				return errors.New("busy")
			}
			return nil
		})
		r.Add("c", func() error { runs["c"]++; return nil })
		if err := r.Undo(); err == nil || err.Error() != "b: busy" {
			t.Fatalf("keep=%v: first Undo: %v, want b: busy", keep, err)
		}
		busy = false
		if err := r.Undo(); err != nil {
			t.Fatalf("keep=%v: second Undo: %v", keep, err)
		}
		want := map[string]int{"a": 1, "b": 1, "c": 1}
		if keep {
			want["b"] = 2
		}
		if !reflect.DeepEqual(runs, want) {
			t.Errorf("keep=%v: runs %v, want %v", keep, runs, want)
		}
		if err := r.Undo(); err != nil || !reflect.DeepEqual(runs, want) {
			t.Errorf("keep=%v: a third Undo ran something: %v %v", keep, runs, err)
		}
	}
}

// TestKeepFailedOrder: failed steps keep their order among themselves and
// stay older than steps added after the Undo.
func TestKeepFailedOrder(t *testing.T) {
	r := New(KeepFailed)
	var order []string
	fail := true
	for _, n := range []string{"x", "y"} {
		r.Add(n, func() error {
			order = append(order, n)
			if fail {
				return errors.New("no")
			}
			return nil
		})
	}
	_ = r.Undo()
	fail = false
	r.Add("z", func() error { order = append(order, "z"); return nil })
	if err := r.Undo(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"y", "x", "z", "y", "x"}; !reflect.DeepEqual(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
}
