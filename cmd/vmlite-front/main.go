// Command vmlite-front is the `vmlite` that users run (make build:
// bin/vmlite; make install: PREFIX/bin/vmlite). It serves stop, shutdown,
// destroy and console of a running guest itself (package
// cmd/internal/front) and execs the full binary, vmlite-core (cmd/vmlite),
// with the same arguments for everything else. It links none of the heavy
// packages whose initialisers every run of the full binary pays (image
// store, FUSE, TLS/SSH, nftables, BPF, XML, cobra): internal/deptest
// keeps it so. bench/README.md has the figures.
//
// The runtime's GOMAXPROCS updates are off: its monitor thread would
// reread the CPU quota files on its first round, and a helper goroutine
// would wait for changes, in a process that lives for a few milliseconds.
// (The reads before main, /proc/self/cgroup and mountinfo, stay: the
// runtime makes them even with containermaxprocs=0.)
//
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"os"
	"syscall"

	"vmlite/cmd/internal/front"
)

func main() {
	args := os.Args[1:]
	if code, handled := front.Run(args, os.Stdin, os.Stdout, os.Stderr); handled {
		os.Exit(code)
	}
	core, err := front.Core()
	if err == nil {
		// argv[0] stays what the user typed: ps and messages say vmlite.
		err = syscall.Exec(core, os.Args, os.Environ())
	}
	fmt.Fprintf(os.Stderr, "vmlite: %v\n", err)
	os.Exit(1)
}
