// Command vmlite-init is the __init role alone (package initsys): the
// process cloned into a guest's namespaces until it execs the guest's init.
//
// It is built by `make build` and embedded into vmlite (internal/initbin):
// a fraction of vmlite's size, it starts with less CPU and fewer page
// faults on every guest start (figures: bench/README.md, "Shared
// supervisors and vmlite-init"). Never installed on its own: supervisors
// write it out once per vmlite build (supervisor/initbin_linux.go).
//
// It is also `vmlite exec`'s second stage (package enter), run from a
// sealed memfd copy inside the guest: a small binary to copy and start
// instead of the whole vmlite.
package main

import (
	"os"

	"vmlite/enter"
	"vmlite/initsys"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == enter.InsideRole {
		os.Exit(enter.MainInside())
	}
	initsys.Main()
}
