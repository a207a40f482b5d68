package supervisor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/state"
)

// The control protocol: one JSON Request line from the client, one JSON
// Response line back, then the connection closes. The socket is root's
// alone (mode 0600 in a 0700 directory) and the server checks SO_PEERCRED.
//
// stop, destroy and reboot answer only when done: for stop and destroy that
// is when the guest's processes, links, cgroup and runtime files are gone.

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
)

// Request is one control request.
type Request struct {
	Op Op `json:"op"`
	// Timeout bounds a graceful stop or reboot (0 = the plan's default).
	Timeout time.Duration `json:"timeout,omitempty"`
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

// request is what a pending control operation asked for.
type request string

// ErrNoSupervisor means no supervisor answers on the socket: the guest is not
// running, or its supervisor died.
var ErrNoSupervisor = errors.New("no supervisor answers")

// Call sends req to the supervisor at socket and returns its response.
// wait bounds the whole exchange.
func Call(socket string, req Request, wait time.Duration) (*Response, error) {
	conn, err := net.DialTimeout("unix", socket, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w (%v): %w", ErrNoSupervisor, err, errdefs.ErrNotRunning)
	}
	defer conn.Close()
	if wait > 0 {
		_ = conn.SetDeadline(time.Now().Add(wait))
	}
	b, _ := json.Marshal(req)
	if _, err := conn.Write(append(b, '\n')); err != nil {
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
	return &resp, nil
}
