package supervisor

import "testing"

func TestStartsAtOnce(t *testing.T) {
	for _, tt := range []struct{ cpus, want int }{{1, 2}, {2, 2}, {4, 4}, {8, 8}, {64, 8}, {0, 2}} {
		if got := startsAtOnce(tt.cpus); got != tt.want {
			t.Errorf("startsAtOnce(%d) = %d, want %d", tt.cpus, got, tt.want)
		}
	}
}
