package supervisor

import "runtime"

// startSlots bounds how many guests one supervisor process sets up at
// once. Every start spends some of its time in syscalls that block
// (FUSE lookups of the /proc server's files, flock, cgroupfs under the
// kernel's cgroup mutex, fork), and the Go runtime hands a blocked
// thread's P to a new thread after 20µs, which it never ends: 32 guests
// launched at once left a shared supervisor with 35 threads, each a
// kernel stack, a task_struct and Go's g0 and signal stacks (bench/README.md,
// "Mass boot"). More starts in flight in one process than the host has
// CPUs do not boot sooner; the rest of a burst waits here, after the pool
// took it.
var startSlots = make(chan struct{}, startsAtOnce(runtime.NumCPU()))

// startsAtOnce is startSlots' size on a host with cpus CPUs: one start
// per CPU, at least two (one can wait on its __init while the other
// runs), at most eight.
func startsAtOnce(cpus int) int { return min(max(cpus, 2), 8) }
