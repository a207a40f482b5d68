package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// readRollup reads /proc/PID/smaps_rollup.
func readRollup(pid int) (Rollup, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return Rollup{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	defer f.Close()
	return parseRollup(f)
}

// procStat reads /proc/PID/stat.
func procStat(pid int) (statFields, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return statFields{}, err
	}
	return parseStat(string(b))
}

// alive reports whether pid exists and has not exited (a zombie has).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	st, err := procStat(pid)
	return err == nil && st.State != 'Z' && st.State != 'X'
}

// parents maps every pid on the host to its parent, from one /proc scan.
func parents() map[int]int {
	out := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := procStat(pid); err == nil {
			out[pid] = st.PPID
		}
	}
	return out
}

// descendants lists pid and everything below it, parents first.
func descendants(pid int, pp map[int]int) []int {
	kids := map[int][]int{}
	for c, p := range pp {
		kids[p] = append(kids[p], c)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, kids[out[i]]...)
	}
	return out
}

// nsInit finds the process below sup that is PID 1 of its own pid
// namespace: the guest's init.
func nsInit(sup int) (int, error) {
	for _, pid := range descendants(sup, parents())[1:] {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[0] == "NSpid:" && f[len(f)-1] == "1" {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no namespace init below pid %d", sup)
}

// treeRollup sums smaps_rollup over pid and its descendants.
func treeRollup(pid int) (Rollup, int, error) { return treeRollupIn(pid, parents()) }

// treeRollupIn is treeRollup with the process tree read already (one /proc
// scan for many guests instead of one each).
func treeRollupIn(pid int, pp map[int]int) (Rollup, int, error) {
	var sum Rollup
	pids := descendants(pid, pp)
	n := 0
	for _, p := range pids {
		r, err := readRollup(p)
		if err != nil {
			continue // a short-lived child went away
		}
		sum = sum.Add(r)
		n++
	}
	if n == 0 {
		return Rollup{}, 0, fmt.Errorf("pid %d: no process readable", pid)
	}
	return sum, n, nil
}

// memUsed is MemTotal - MemAvailable, in KiB.
func memUsed() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseMeminfo(f)
}

// watchExit returns a channel that receives the time pid exits (becomes a
// zombie or goes), observed through a pidfd, which works for processes
// that are not our children. The channel is closed without a value when
// the pid cannot be watched or the deadline passes.
func watchExit(pid int, deadline time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		close(ch)
		return ch
	}
	go func() {
		defer close(ch)
		defer unix.Close(fd)
		end := time.Now().Add(deadline)
		for {
			ms := int(time.Until(end).Milliseconds())
			if ms <= 0 {
				return
			}
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, ms)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return
			}
			if n > 0 {
				ch <- time.Now()
				return
			}
		}
	}()
	return ch
}

// waitGone polls until none of pids is alive, for at most d.
func waitGone(d time.Duration, pids ...int) error {
	end := time.Now().Add(d)
	for {
		left := 0
		for _, p := range pids {
			if alive(p) {
				left = p
				break
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("pid %d still alive after %v", left, d)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitFile polls for path every 0.5 ms (as the anchors did) until it
// exists or d passes; it returns when it was seen.
func waitFile(path string, d time.Duration) (time.Time, error) {
	end := time.Now().Add(d)
	for {
		if err := unix.Access(path, unix.F_OK); err == nil {
			return time.Now(), nil
		}
		if time.Now().After(end) {
			return time.Time{}, fmt.Errorf("%s did not appear within %v", path, d)
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// readCPUStat reads the host's cumulative CPU ticks.
func readCPUStat() (hostTicks, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return hostTicks{}, err
	}
	return parseCPUStat(string(b))
}
