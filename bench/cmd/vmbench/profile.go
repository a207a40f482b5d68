package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// phaseNames are the steps of `vmlite start`, in order, as the profile
// section reports them. Each is the time between two events seen in an
// strace -f -ttt log of the start (see parseStartTrace).
var phaseNames = []string{
	"CLI: exec to supervisor spawned (runtime init, XML parse, plan, lock)",
	"supervisor: exec to plan read (Go runtime and package init)",
	"supervisor: plan read to guest clone (runtime files, ptys, cgroups, control socket)",
	"clone to plan received by __init (its exec and Go runtime init; meanwhile the supervisor does the host side: links, mount clones)",
	"__init: plan received to exec of /sbin/init (hostname, lo, mounts, /dev, pivot_root, caps)",
	"supervisor: init exec'd to report written (sync EOF, state.json)",
	"CLI: report to exit",
	"guest: /sbin/init exec to BOOTED (busybox init and rcS, the guest's own work)",
}

// traceEvents are the moments parseStartTrace looks for, in seconds.
type traceEvents struct {
	cliExec, supExec, supPlan, clone, initRecv, guestExec, report, cliDone, booted float64
}

// phases turns events into the durations of phaseNames, in ms; ok is
// false when an event is missing.
func (e traceEvents) phases() ([]float64, bool) {
	ts := []float64{e.cliExec, e.supExec, e.supPlan, e.clone, e.initRecv, e.guestExec, e.report, e.cliDone}
	for _, t := range append(ts, e.booted) {
		if t == 0 {
			return nil, false
		}
	}
	out := make([]float64, 0, len(phaseNames))
	for i := 1; i < len(ts); i++ {
		out = append(out, (ts[i]-ts[i-1])*1000)
	}
	out = append(out, (e.booted-e.guestExec)*1000)
	return out, true
}

// parseStartTrace reads `strace -f -ttt` output of `vmlite start` (lines
// "PID SECONDS SYSCALL...") and finds the first occurrence of each event.
// The supervisor and __init are told apart by their execve arguments;
// threads of a process have their own ids, so later events match on the
// syscall alone.
func parseStartTrace(r io.Reader) traceEvents {
	var e traceEvents
	initPID := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	set := func(dst *float64, t float64) {
		if *dst == 0 {
			*dst = t
		}
	}
	for sc.Scan() {
		// strace pads the pid column: "944   1795360221.160436 execve(...".
		line := sc.Text()
		pid, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimLeft(rest, " ")
		ts, call, ok := strings.Cut(rest, " ")
		if !ok {
			continue
		}
		t, err := strconv.ParseFloat(ts, 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(call, "execve(") && strings.Contains(call, `"start"`):
			set(&e.cliExec, t)
		case strings.HasPrefix(call, "execve(") && strings.Contains(call, `"__supervise"`):
			set(&e.supExec, t)
		case strings.HasPrefix(call, "execve(") && strings.Contains(call, `"__init"`):
			initPID = pid
		case strings.HasPrefix(call, `read(3, "{\"version`) && e.supExec > 0:
			set(&e.supPlan, t)
		case (strings.HasPrefix(call, "clone(") || strings.HasPrefix(call, "clone3(")) && strings.Contains(call, "CLONE_NEWNS"):
			set(&e.clone, t)
		case strings.HasPrefix(call, "recvmsg(3") && pid == initPID:
			// The line's time is the call's entry; __init may wait in it
			// for the supervisor. The plan arrives at its exit: entry plus
			// strace -T's duration, or the time of the "resumed" line.
			if !strings.Contains(call, "<unfinished ...>") {
				set(&e.initRecv, t+syscallDuration(call))
			}
		case strings.HasPrefix(call, "<... recvmsg resumed>") && pid == initPID:
			set(&e.initRecv, t)
		case strings.HasPrefix(call, "execve(\"/sbin/init\""):
			set(&e.guestExec, t)
		case strings.HasPrefix(call, "write(4, \"{\\\"ok\\\""):
			set(&e.report, t)
		case strings.HasPrefix(call, "write(1, \"Guest "):
			set(&e.cliDone, t)
		case strings.HasPrefix(call, "write(") && strings.Contains(call, "BOOTED") && e.guestExec > 0:
			set(&e.booted, t)
		}
	}
	return e
}

// syscallDuration is the "<0.000123>" strace -T appends, in seconds; 0
// when absent.
func syscallDuration(call string) float64 {
	i := strings.LastIndexByte(call, '<')
	if i < 0 || !strings.HasSuffix(call, ">") {
		return 0
	}
	d, err := strconv.ParseFloat(call[i+1:len(call)-1], 64)
	if err != nil {
		return 0
	}
	return d
}
