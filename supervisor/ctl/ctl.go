// Package ctl is the control protocol of a guest's supervisor (its
// control socket) and the client side of it. It is kept apart from
// package supervisor so that a client (the CLI's front binary,
// cmd/vmlite-front) links only this, plan and state.
//
// The protocol: one JSON Request line from the client, one JSON Response
// line back, then the connection closes. The socket is root's alone (mode
// 0600 in a 0700 directory) and the server checks SO_PEERCRED.
//
// stop, destroy and reboot answer only when done: for stop and destroy that
// is when the guest's processes, links, cgroup and runtime files are gone.
package ctl

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// Op is a control operation.
type Op string

// Control operations.
const (
	OpStatus  Op = "status"
	OpStop    Op = "stop"
	OpDestroy Op = "destroy"
	OpReboot  Op = "reboot"
	OpSuspend Op = "suspend"
	OpResume  Op = "resume"
	// OpAttachDevice and OpDetachDevice change the devices of a running
	// guest (Request.Device).
	OpAttachDevice Op = "attach-device"
	OpDetachDevice Op = "detach-device"
)

// Request is one control request.
type Request struct {
	Op Op `json:"op"`
	// Timeout bounds a graceful stop or reboot (0 = the plan's default).
	Timeout time.Duration `json:"timeout,omitempty"`
	// Device is the device of OpAttachDevice and OpDetachDevice.
	Device *plan.DeviceChange `json:"device,omitempty"`
}

// Response is the answer to a Request.
type Response struct {
	OK    bool        `json:"ok"`
	Error string      `json:"error,omitempty"`
	State state.State `json:"state"`
	// Forced is set when a stop had to kill the guest after its timeout.
	Forced bool `json:"forced,omitempty"`
	// Consoles counts attached console clients per console.
	Consoles map[string]int `json:"consoles,omitempty"`
}

// ErrNoSupervisor means no supervisor answers on the socket: the guest is not
// running, or its supervisor died.
var ErrNoSupervisor = errors.New("no supervisor answers")

// CallWait bounds the exchange of req: a graceful stop or reboot may take
// its timeout, and the guest's default bound twice over on top.
func CallWait(req Request) time.Duration {
	return req.Timeout + 2*plan.DefaultStopTimeout
}

// ExitWait bounds the wait for a dedicated supervisor's exit after it
// answered a stop or destroy.
const ExitWait = 10 * time.Second

// Call sends req to the supervisor at socket and returns its response.
// wait bounds the whole exchange (0: no bound). A stop or destroy that a
// dedicated supervisor (one guest, SharedSupervisor false) answered
// returns once that process has exited too (at most ExitWait later), so
// that nothing of the guest is left when the caller reports it gone; a
// shared supervisor goes on hosting its other guests.
func Call(socket string, req Request, wait time.Duration) (*Response, error) {
	conn, err := net.DialTimeout("unix", socket, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w (%v): %w", ErrNoSupervisor, err, errdefs.ErrNotRunning)
	}
	defer conn.Close()
	// Opened now, while the supervisor surely runs (it answered the
	// connect): a pidfd names that process for good, so its exit is seen
	// at once rather than by polling /proc, and a reused pid cannot be
	// mistaken for it.
	var exit *exitWatch
	if req.Op == OpStop || req.Op == OpDestroy {
		exit = watchPeer(conn)
		defer exit.close()
	}
	if wait > 0 {
		_ = conn.SetDeadline(time.Now().Add(wait))
	}
	if _, err := conn.Write(requestLine(req)); err != nil {
		return nil, fmt.Errorf("send %s request: %w", req.Op, err)
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("read %s response: %w", req.Op, err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, fmt.Errorf("decode %s response: %w", req.Op, err)
	}
	if !resp.OK {
		return &resp, fmt.Errorf("%s: %s", req.Op, resp.Error)
	}
	if exit != nil && !resp.State.SharedSupervisor {
		exit.wait(resp.State.SupervisorPID, ExitWait)
	}
	return &resp, nil
}
