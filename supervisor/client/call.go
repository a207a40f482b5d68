package client

import (
	"time"

	"vmlite/supervisor"
	"vmlite/supervisor/ctl"
)

// ErrNoSupervisor means no supervisor answers on the socket: the guest is not
// running, or its supervisor died.
var ErrNoSupervisor = ctl.ErrNoSupervisor

// Call sends req to the supervisor at socket and returns its response.
// wait bounds the whole exchange; a stop or destroy answered by a
// dedicated supervisor returns once it has exited (ctl.Call).
func Call(socket string, req supervisor.Request, wait time.Duration) (*supervisor.Response, error) {
	return ctl.Call(socket, req, wait)
}
