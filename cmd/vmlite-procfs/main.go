// Command vmlite-procfs is the __procfs role alone (package procfs): the
// host-wide /proc server, one per state root.
//
// It is built by `make build` and embedded into vmlite
// (internal/procfsbin): a long-lived daemon whose binary holds only the
// server maps a fraction of vmlite's text and data, and runs none of the
// other packages' initialisers (figures: bench/README.md, "The procfs
// section"). Never installed on its own: supervisors write it out once per
// vmlite build (supervisor/procfsbin_linux.go) and start the server from
// it; a build that embeds none starts `vmlite __procfs`.
package main

import (
	"fmt"
	"os"

	"vmlite/procfs"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == procfs.Role {
		os.Exit(procfs.Main(os.Args[2:]))
	}
	fmt.Fprintf(os.Stderr, "vmlite-procfs is started by vmlite's supervisors: %s %s DIR LOGFILE\n", os.Args[0], procfs.Role)
	os.Exit(2)
}
