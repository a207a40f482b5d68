package client

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/supervisor"
)

// ErrNoSupervisor means no supervisor answers on the socket: the guest is not
// running, or its supervisor died.
var ErrNoSupervisor = errors.New("no supervisor answers")

// Call sends req to the supervisor at socket and returns its response.
// wait bounds the whole exchange.
func Call(socket string, req supervisor.Request, wait time.Duration) (*supervisor.Response, error) {
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
	var resp supervisor.Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, fmt.Errorf("decode %s response: %w", req.Op, err)
	}
	if !resp.OK {
		return &resp, fmt.Errorf("%s: %s", req.Op, resp.Error)
	}
	return &resp, nil
}
