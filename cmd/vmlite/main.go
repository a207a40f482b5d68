// Command vmlite is one binary with several roles. The hidden roles are
// dispatched first, explicitly, never from init():
//
//	vmlite __supervise   one per running guest, detached (package supervisor)
//	vmlite __init        the guest's future PID 1 until it execs init (package initsys)
//	vmlite __exec        enters a running guest for `vmlite exec` (package enter)
//	vmlite __procfs      the host-wide /proc server, one per state root (package procfs)
//	vmlite ...           the CLI (package cli), after the fast paths of
//	                     package cmd/internal/front, which the front
//	                     binary (cmd/vmlite-front) serves without this one
//
// `make build` installs this binary as vmlite-core beside the front one,
// bin/vmlite; built alone (go build ./cmd/vmlite) it is a complete vmlite.
package main

import (
	"os"

	"vmlite/cmd/internal/front"
	"vmlite/cmd/vmlite/cli"
	"vmlite/enter"
	"vmlite/initsys"
	"vmlite/procfs"
	"vmlite/supervisor"
)

func main() {
	supervisor.ProcFSRole = true
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case initsys.Role:
			initsys.Main() // never returns
		case supervisor.Role:
			os.Exit(supervisor.Main())
		case enter.Role:
			os.Exit(enter.Main())
		case enter.InsideRole:
			os.Exit(enter.MainInside())
		case procfs.Role:
			os.Exit(procfs.Main(os.Args[2:]))
		}
	}
	front.CoreIsSelf = true
	if code, handled := front.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); handled {
		os.Exit(code)
	}
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
