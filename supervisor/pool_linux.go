package supervisor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/plan"
	"vmlite/supervisor/ctl"
)

// A shared supervisor ("pool") hosts up to max guests in one process, so
// that a host running hundreds of guests pays one Go runtime per max
// guests instead of one per guest, and a start skips a process start.
// Every guest keeps its own Supervisor value, control socket, console
// sockets, log file and lock; only the process is shared.
//
// Every pool listens on a socket of its own (RunDir/sv-ID-N.sock,
// ID naming the binary) while it has room. A CLI offers its guest to the
// pools it finds there, without any lock: a pool decides under its mutex
// whether it takes the guest (room, not ending) and says so. A pool that
// becomes full or ends removes its socket and stops listening; requests
// queued on it then fail before any answer and go elsewhere. Only
// starting a pool is serialised (a host-wide lock file), so that many
// starts that find every pool full start one new pool, not one each.
//
// The protocol on a pool's socket (unix stream): the CLI sends one byte
// carrying the guest's lock fd (SCM_RIGHTS), then the plan as one JSON
// line; the pool answers one PoolAnswer line, and, when it took the
// guest, the StartResult line once the guest's init runs (or the start
// failed and was rolled back).

// poolOptions are the __supervise flags of a pool.
type poolOptions struct {
	socket string // the path the pool listens on
	max    int    // guests per process; 1: a dedicated supervisor
	stages int    // pre-forked __init stages kept waiting (shared only)
}

// PoolAnswer is the pool's first answer to a launch request (ctl's: the
// client side of this socket lives there).
type PoolAnswer = ctl.PoolAnswer

// pool counts the guests of this process and decides when it ends.
type pool struct {
	o poolOptions

	mu     sync.Mutex // mu guards the fields below
	guests int
	l      *net.UnixListener // nil once the pool stopped listening
	ending bool

	exit chan struct{} // closed when the process should exit

	stages *stagePool // nil in a dedicated supervisor
}

func newPool(o poolOptions) *pool {
	pl := &pool{o: o, exit: make(chan struct{})}
	if o.max > 1 && o.stages > 0 {
		pl.stages = newStagePool(o.stages)
	}
	return pl
}

// adopt counts a guest the pool hosts.
func (pl *pool) adopt() {
	pl.mu.Lock()
	pl.guests++
	pl.mu.Unlock()
}

// runGuest supervises one guest and counts it out at the end.
func (pl *pool) runGuest(p *plan.Plan, raw json.RawMessage, lock *os.File, report func(plan.StartResult)) {
	defer pl.guestGone()
	superviseGuest(p, raw, lock, pl.o.max > 1, pl.stages, pl.alone, report)
}

// alone reports whether the pool hosts one guest (or none).
func (pl *pool) alone() bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.guests <= 1
}

// guestGone counts a guest out; the pool ends with its last guest.
func (pl *pool) guestGone() {
	pl.mu.Lock()
	pl.guests--
	n := pl.guests
	pl.mu.Unlock()
	if n <= 0 {
		go pl.maybeEnd()
	}
}

// maybeEnd ends the process if it still has no guest. From then on it
// turns every request down; queued ones fail when the listener closes.
func (pl *pool) maybeEnd() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.guests > 0 || pl.ending {
		return
	}
	pl.stopListeningLocked()
	pl.ending = true
	close(pl.exit)
}

// stopListeningLocked removes the pool's socket; mu must be held.
func (pl *pool) stopListeningLocked() {
	if pl.l == nil {
		return
	}
	_ = os.Remove(pl.o.socket)
	_ = pl.l.Close()
	pl.l = nil
}

// serve accepts launch requests on l.
func (pl *pool) serve(l *net.UnixListener) {
	pl.mu.Lock()
	pl.l = l
	pl.mu.Unlock()
	go func() {
		for {
			conn, err := l.AcceptUnix()
			if err != nil {
				return // closed: full or ending
			}
			go pl.handle(conn)
		}
	}()
}

// handle takes one guest from a CLI.
func (pl *pool) handle(conn *net.UnixConn) {
	p, raw, lock, err := recvLaunch(conn)
	if err != nil {
		answer(conn, PoolAnswer{Error: err.Error()})
		conn.Close()
		return
	}
	pl.mu.Lock()
	if pl.ending || pl.guests >= pl.o.max {
		pl.mu.Unlock()
		lock.Close()
		answer(conn, PoolAnswer{Error: "supervisor full"})
		conn.Close()
		return
	}
	pl.guests++
	full := pl.guests >= pl.o.max
	if full {
		pl.stopListeningLocked() // the next CLI starts a new pool
	}
	pl.mu.Unlock()
	answer(conn, PoolAnswer{Accepted: true})
	_ = conn.SetDeadline(time.Time{})
	pl.runGuest(p, raw, lock, func(r plan.StartResult) {
		report(conn, r)
		if full {
			// No start comes here again: its waiting stages (and their
			// spare cgroups) would only cost memory.
			pl.stages.close()
		}
	})
}

// recvLaunch reads a launch request: the lock fd, then the plan line
// (returned decoded and as received).
func recvLaunch(conn *net.UnixConn) (*plan.Plan, json.RawMessage, *os.File, error) {
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if !peerAllowed(conn) {
		return nil, nil, nil, errors.New("permission denied")
	}
	b := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(b, oob)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read launch request: %w", err)
	}
	fds, err := plan.ParseRights(oob[:oobn])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, nil, nil, fmt.Errorf("launch request without the guest's lock: %v", err)
	}
	lock := os.NewFile(uintptr(fds[0]), "lock")
	line, err := bufio.NewReaderSize(conn, 64<<10).ReadBytes('\n')
	if err != nil {
		lock.Close()
		return nil, nil, nil, fmt.Errorf("read launch plan: %w", err)
	}
	p, err := plan.Unmarshal(line)
	if err != nil {
		lock.Close()
		return nil, nil, nil, err
	}
	return p, line, lock, nil
}

func answer(conn net.Conn, a PoolAnswer) {
	b, _ := json.Marshal(a)
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Write(append(b, '\n'))
	_ = conn.SetWriteDeadline(time.Time{})
}

// SendLaunch hands a guest to the pool at conn: its lock, then its plan.
func SendLaunch(conn *net.UnixConn, b []byte, lock *os.File) error {
	return ctl.SendLaunch(conn, b, lock)
}
