// Package procstat reads the fields of /proc/PID/stat (proc(5)) that vmlite
// uses: the one parser of it outside the benchmarks and tests.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Stat is what vmlite reads of a process's stat line.
type Stat struct {
	// State is field 3: R, S, D, Z, T...
	State byte
	// StartTime is field 22: when the process started, in clock ticks
	// since boot. With the pid it names one process for good (pids are
	// reused, start times of one pid are not).
	StartTime uint64
}

// Zombie says whether the process has ended and waits to be reaped.
func (s Stat) Zombie() bool { return s.State == 'Z' }

// Read reads /proc/PID/stat. A process that is gone is an error that
// wraps os.ErrNotExist.
func Read(pid int) (Stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Stat{}, err
	}
	s, err := Parse(b)
	if err != nil {
		return Stat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return s, nil
}

// Parse reads a stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted after its last closing parenthesis.
func Parse(b []byte) (Stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, fmt.Errorf("no command name in %q", b)
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return Stat{}, fmt.Errorf("too few fields in %q", b)
	}
	// The state is one letter (proc(5)); strings.Fields does not split
	// at a NUL, so check what it is, not only its length.
	if c := fields[0]; len(c) != 1 || !('A' <= c[0] && c[0] <= 'Z' || 'a' <= c[0] && c[0] <= 'z') {
		return Stat{}, fmt.Errorf("no process state in %q", b)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return Stat{}, fmt.Errorf("start time: %w", err)
	}
	return Stat{State: fields[0][0], StartTime: start}, nil
}
