// Command vmlite-init is the __init role alone (package initsys): the
// process cloned into a guest's namespaces until it execs the guest's init.
//
// It is built by `make build` and embedded into vmlite (internal/initbin):
// at 3 MB against vmlite's 8, its Go start-up costs about 7 ms of CPU and
// 260 page faults against 13 ms and 370 for `vmlite __init`, on every
// guest start. Never installed on its own: supervisors write it out once
// per vmlite build (supervisor/initbin_linux.go).
//
// It is also `vmlite exec`'s second stage (package enter), run from a
// sealed memfd copy inside the guest: 3 MB to copy and start instead of
// the whole vmlite.
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
