package supervisor

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestProcFSRights(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rights     []int
		trees      map[string]int
		wantRights []int
		wantIdx    map[string]int
	}{
		{"none", []int{7}, nil, []int{7}, nil},
		{"after the others", []int{7, 8}, map[string]int{"proc/meminfo": 20}, []int{7, 8, 20}, map[string]int{"proc/meminfo": 2}},
		{"alone", nil, map[string]int{"proc/stat": 21}, []int{21}, map[string]int{"proc/stat": 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rights, idx := procFSRights(tc.rights, tc.trees)
			if !reflect.DeepEqual(rights, tc.wantRights) || !reflect.DeepEqual(idx, tc.wantIdx) {
				t.Errorf("procFSRights = %v, %v; want %v, %v", rights, idx, tc.wantRights, tc.wantIdx)
			}
			for f, i := range idx {
				if rights[i] != tc.trees[f] {
					t.Errorf("%s: index %d holds fd %d, want %d", f, i, rights[i], tc.trees[f])
				}
			}
		})
	}
}

// A guest without the server (procfs off) has no clones to wait for.
func TestProcFSTreesNil(t *testing.T) {
	var tr *procFSTrees
	got, err := tr.wait(time.Millisecond)
	if got != nil || err != nil {
		t.Errorf("nil wait = %v, %v", got, err)
	}
	tr.close()
}

// A server that does not answer fails the boot with the step named, and
// the clones made after are closed by the goroutine (abandoned).
func TestProcFSTreesTimeout(t *testing.T) {
	tr := &procFSTrees{done: make(chan struct{}), fds: map[string]int{}}
	_, err := tr.wait(time.Millisecond)
	if err == nil || !tr.abandoned {
		t.Fatalf("wait of an unanswered clone = %v (abandoned %v), want a failure", err, tr.abandoned)
	}
	if want := "clone the /proc server's files"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the step %q", err, want)
	}
}
