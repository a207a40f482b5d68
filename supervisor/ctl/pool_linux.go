package ctl

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/binfile"
	"vmlite/plan"
)

// The client side of a shared supervisor's ("pool's") socket, and the
// answer it reads (the protocol is drawn in supervisor/pool_linux.go):
// here so that the front binary can hand a guest to a running pool with
// no more of the supervisor than this package.

// Role is the hidden argv[1] of the supervisor role (`vmlite __supervise`).
const Role = "__supervise"

// PoolAnswer is the pool's first answer to a launch request.
type PoolAnswer struct {
	Accepted bool   `json:"accepted"`
	Error    string `json:"error,omitempty"`
}

// SendLaunch hands a guest to the pool at conn: its lock, then its plan.
func SendLaunch(conn *net.UnixConn, b []byte, lock *os.File) error {
	if _, _, err := conn.WriteMsgUnix([]byte{'L'}, unix.UnixRights(int(lock.Fd())), nil); err != nil {
		return fmt.Errorf("send the guest's lock: %w", err)
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("send launch plan: %w", err)
	}
	return nil
}

// AcceptWait bounds how long a start waits for a shared supervisor to
// take its guest (it may be starting up itself on a loaded host), and
// StartWait how long for the start report.
const (
	AcceptWait = 60 * time.Second
	StartWait  = 120 * time.Second
)

// BinaryIDOf names the vmlite binary at path (binfile.IDOf): the pools'
// sockets are named after the core binary that started them (their
// supervisors run its embedded vmlite-supervisor), so that a start never
// hands a plan to a supervisor of another build.
func BinaryIDOf(path string) (string, error) { return binfile.IDOf(path) }

// PoolPrefix is the path prefix of the sockets of the pools of the
// binary with id in runDir (state.Layout.Run).
func PoolPrefix(runDir, id string) string { return filepath.Join(runDir, "sv-"+id+"-") }

// OfferToPools offers the guest (plan JSON b, its lock held) to each
// listening pool whose socket starts with prefix, in turn. handed is
// false when none took it: nothing was done, and the caller may start a
// pool (or give the start up). taken, if not nil, runs once a pool has
// taken the guest, before its start report. Once a pool has taken it, any
// failure is an error, never a second try: the pool may have started the
// guest.
func OfferToPools(prefix string, b []byte, lock *os.File, taken func()) (plan.StartResult, bool, error) {
	socks, _ := filepath.Glob(prefix + "*.sock")
	for _, sock := range socks {
		conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: sock, Net: "unix"})
		if err != nil {
			if errors.Is(err, unix.ECONNREFUSED) {
				_ = os.Remove(sock) // its pool died: nobody else owns this path
			}
			continue
		}
		if res, handed, err := handToPool(conn, b, lock, taken); handed || err != nil {
			return res, handed, err
		}
	}
	return plan.StartResult{}, false, nil
}

// handToPool offers the guest to the pool on conn. handed is false when
// the pool turned it down before taking it (full, ending).
func handToPool(conn *net.UnixConn, b []byte, lock *os.File, taken func()) (res plan.StartResult, handed bool, err error) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(AcceptWait))
	if err := SendLaunch(conn, b, lock); err != nil {
		return res, false, nil // never read: the pool ended meanwhile
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return res, true, fmt.Errorf("the shared supervisor did not take the guest within %v", AcceptWait)
		}
		return res, false, nil // the pool ended before it read the request
	}
	var a PoolAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		return res, true, fmt.Errorf("decode supervisor answer: %w", err)
	}
	if !a.Accepted {
		return res, false, nil
	}
	if taken != nil {
		taken()
	}
	_ = conn.SetDeadline(time.Now().Add(StartWait))
	res, err = DecodeResult(r)
	return res, true, err
}

// DecodeResult reads a start report line.
func DecodeResult(r *bufio.Reader) (plan.StartResult, error) {
	line, err := r.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return plan.StartResult{}, fmt.Errorf("no report within %v", StartWait)
		}
		return plan.StartResult{}, err
	}
	var res plan.StartResult
	if err := json.Unmarshal(line, &res); err != nil {
		return plan.StartResult{}, fmt.Errorf("decode start report: %w", err)
	}
	return res, nil
}
