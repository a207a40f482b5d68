package procstat

import (
	"fmt"
	"os"
)

// Exited reports whether process pid has ended: it is gone, or it is a
// zombie with no thread left but its leader. The leader of a killed
// multi-threaded process (any Go program) is a zombie while its other
// threads are still exiting, and those hold the process's files (its
// flocks, sockets, mount references) until they have: an ended process
// has released them.
func Exited(pid int) bool {
	st, err := Read(pid)
	if err != nil {
		return true
	}
	if !st.Zombie() {
		return false
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	return err != nil || len(tasks) <= 1
}

// Ended reports whether the process that pid named when it started at
// start (clock ticks since boot, Stat.StartTime) has ended: pid is gone,
// is another process now, or has exited (Exited: a zombie leader whose
// other threads still run has not).
func Ended(pid int, start uint64) bool {
	st, err := Read(pid)
	return err != nil || st.StartTime != start || Exited(pid)
}
