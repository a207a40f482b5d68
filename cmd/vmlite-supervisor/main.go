// Command vmlite-supervisor is the __supervise role alone (package
// supervisor), with __init, which a supervisor clones guests from when it
// has no vmlite-init to write out.
//
// It is built by `make build` and embedded into vmlite
// (internal/supervisorbin): a supervisor runs as long as its guests, and
// a binary that holds only what a running guest needs maps a fraction of
// vmlite's text and data and runs none of the image store's, XML front
// end's or CLI's initialisers on every start that starts a supervisor
// (internal/deptest keeps them out; figures: bench/README.md, "The
// supervisor's own binary"). Never installed on its own: `vmlite start`
// writes it out once per vmlite build (supervisor/client) and starts
// supervisors from it; a build that embeds none runs `vmlite __supervise`.
package main

import (
	"fmt"
	"os"

	"vmlite/initsys"
	"vmlite/supervisor"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case supervisor.Role:
			os.Exit(supervisor.Main())
		case initsys.Role:
			initsys.Main() // never returns
		}
	}
	fmt.Fprintf(os.Stderr, "vmlite-supervisor is started by vmlite start: %s %s NAME\n", os.Args[0], supervisor.Role)
	os.Exit(2)
}
