package testutil

import (
	"fmt"
	"os"
	"testing"
)

// TestZombieLeader: the process ZombieLeader makes lives on (another
// thread answers) while its leader is a zombie, and ends with the test.
func TestZombieLeader(t *testing.T) {
	var pid int
	t.Run("make", func(t *testing.T) {
		pid = ZombieLeader(t)
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/task", pid)); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("process %d outlived its test", pid)
	}
}
