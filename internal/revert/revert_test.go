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
