// Package console multiplexes a guest's console: one pty master, any number
// of clients on a unix socket, a scrollback ring and a capped log file; and
// the client side that attaches a terminal (or a pipe) to it.
//
// # Supervisor side
//
// The supervisor allocates the pty, gives the slave to the guest and keeps a
// slave fd of its own open for the guest's whole life: then the master never
// reads EIO when the guest's init closes /dev/console (containerd/console
// instead treats EIO as "wait"; the Mux does both, so a supervisor that does
// not keep the slave still works, with up to half a second of latency while
// no slave is open). It then hands the master to a Mux:
//
//	l, err := console.Listen(app.Layout.ConsoleSocket(name, "console0"))
//	m, err := console.NewMux(console.Config{
//		Master:  master, // owned by the Mux from here on
//		LogPath: app.Layout.ConsoleLog(name),
//		Name:    name,
//	})
//	go m.Serve(l)
//	...                  // the guest runs
//	m.Close()            // guest stopped: clients get "guest NAME stopped"
//
// Data flow:
//
//	            +-> ring (last RingBytes, replayed to each new client)
//	master -> pump -> log file (capped, rotated to LOG.1)
//	            +-> client 1 queue -> writer -> socket
//	            +-> client 2 queue -> writer -> socket
//	master <- inMu <- reader <- socket (resizes; input of clients that
//	                                    do not write it to the master
//	                                    themselves, direct_linux.go)
//
// One goroutine (the pump) reads the master; nothing it does can block on an
// ordinary client: each client has a bounded queue (ClientQueueBytes), and
// output that does not fit is dropped for that client alone, which then sees
// a line "[vmlite: N bytes of console output dropped: ...]" once it catches
// up. A stuck client therefore never slows the guest or the other clients,
// and keeps the live stream instead of being cut off (a terminal suspended
// with ^Z resumes where the guest is, not with a dead connection).
//
// A lossless client (FrameLossless: `vmlite console --lossless`, for
// scripts that must see every byte) is the exception: when its queue is
// full the pump waits for it, as libvirt's LXC console relay stops reading
// the pty while its client's buffer is full. A pty is one stream, so the
// wait holds back the console as a whole: the guest's writes to it block
// once the pty buffer fills, and the other clients and the log get the
// output late but complete. The wait is bounded: a lossless client that
// frees no room for LosslessStall is disconnected (it exits 1: it knows it
// lost output) and the console flows again.
//
// Cost (measured by TestIdleConsoleCost; figures in bench/README.md,
// Console): an idle console (no client) is two goroutines (pump, accept
// loop), mostly their stacks (the pump's read buffer comes from a pool
// while output flows), plus the ring, which grows with the output up to
// RingBytes. Each attached client adds two goroutines while idle, plus its
// queue while behind.
//
// Throughput: a burst of output is read in batches of up to pumpBufSize
// (readBatches). The pump writes each batch straight to the socket of every
// client that keeps up (client.writeNow: one writev, no copy, no hand-off);
// a client that fell behind gets it queued, and its writer sends everything
// queued as one frame per 64 KiB in one socket write. The log gets one
// write per batch, after the clients. Attach writes the frames that arrived
// together in one write to its terminal. BenchmarkMuxThroughput measures the
// whole path; bench/README.md ("Console") has the figures.
//
// # Client side
//
// Attach connects a terminal or a pair of pipes to a console socket; see its
// doc comment and the protocol description in proto.go.
package console

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config's zero values.
const (
	DefaultRingBytes        = 128 << 10
	DefaultLogMaxBytes      = 1 << 20
	DefaultClientQueueBytes = 256 << 10
	// DefaultLosslessStall: a lossless client that reads nothing for this
	// long is disconnected.
	DefaultLosslessStall = 30 * time.Second
)

// pumpBufSize bounds one batch of output: what the pump reads from the
// master before passing it on (see readBatches). The buffers come from a pool
// and are only taken while output flows, so an idle console holds none.
const pumpBufSize = 32 << 10

// pumpBufs holds the pump's read buffers (*[]byte of pumpBufSize).
var pumpBufs = sync.Pool{New: func() any {
	b := make([]byte, pumpBufSize)
	return &b
}}

// stopGrace bounds how long Close waits for a client to take the final
// output and the "stopped" notice.
const stopGrace = 2 * time.Second

// maxDrain bounds what Close reads from the pty after the guest stopped.
const maxDrain = 256 << 10

// Config configures a Mux.
type Config struct {
	// Master is the pty master. The Mux owns it from NewMux on and closes it
	// in Close. Nobody may call Fd on it (or any dup of it) afterwards: that
	// switches the shared file description to blocking mode, after which
	// Close could no longer interrupt the pump.
	Master *os.File
	// LogPath receives all output, capped at LogMaxBytes (rotated to
	// LogPath.1); "" keeps no log.
	LogPath string
	// LogMaxBytes caps the log file; 0 means DefaultLogMaxBytes.
	LogMaxBytes int64
	// UserLogPath is a second log the domain asks for (<console><log
	// file=...>): same cap and rotation, mode 0600, never through a
	// symlink; UserLogAppend keeps what it holds, else it is truncated.
	UserLogPath   string
	UserLogAppend bool
	// RingBytes is the scrollback replayed to new clients; 0 means
	// DefaultRingBytes.
	RingBytes int
	// ClientQueueBytes bounds the output queued for one client; 0 means
	// DefaultClientQueueBytes, and it is at least 16 KiB.
	ClientQueueBytes int
	// Name is the guest's name, for the "guest NAME stopped" notice.
	Name string
	// LosslessStall bounds how long a lossless client may hold the console
	// back without reading; 0 means DefaultLosslessStall.
	LosslessStall time.Duration
}

// Mux serves one console to many clients. All methods are safe for
// concurrent use. Lifecycle: NewMux starts the pump, Serve (any number of
// listeners, each in its own goroutine) accepts clients, Close ends it all.
type Mux struct {
	cfg    Config
	master *os.File
	log    *logFile // owned by the pump until it exits, then by Close
	// userLog is Config.UserLogPath's log, owned as log is.
	userLog *logFile

	// inMu serialises input from all clients: one writer on the master, so
	// that two clients' bytes never interleave inside one write.
	inMu sync.Mutex
	// framedIn counts the input bytes that came through the socket (the
	// rest goes straight to the pty: direct_linux.go).
	framedIn atomic.Int64

	// mu guards the fields below.
	mu        sync.Mutex
	ring      *ring
	clients   map[*client]struct{}
	listeners map[net.Listener]struct{}
	closed    bool

	done     chan struct{} // closed by Close: the pump drains and exits
	pumpDone chan struct{}
	wg       sync.WaitGroup // client goroutines
	closeErr error
	once     sync.Once
}

// NewMux takes over cfg.Master and starts copying its output to the log and
// the ring. Call Serve to let clients in and Close when the guest stops.
func NewMux(cfg Config) (*Mux, error) {
	if cfg.Master == nil {
		return nil, errors.New("console mux: no pty master")
	}
	if cfg.RingBytes == 0 {
		cfg.RingBytes = DefaultRingBytes
	}
	if cfg.LogMaxBytes == 0 {
		cfg.LogMaxBytes = DefaultLogMaxBytes
	}
	if cfg.ClientQueueBytes == 0 {
		cfg.ClientQueueBytes = DefaultClientQueueBytes
	}
	if cfg.LosslessStall == 0 {
		cfg.LosslessStall = DefaultLosslessStall
	}
	// A queue must hold at least one read of the pump and the drop marker,
	// or a client that once fell behind would never get output again.
	cfg.ClientQueueBytes = max(cfg.ClientQueueBytes, 2*pumpBufSize)
	var log *logFile
	if cfg.LogPath != "" {
		var err error
		if log, err = openLog(cfg.LogPath, cfg.LogMaxBytes); err != nil {
			return nil, err
		}
	}
	var userLog *logFile
	if cfg.UserLogPath != "" {
		var err error
		if userLog, err = openUserLog(cfg.UserLogPath, cfg.LogMaxBytes, cfg.UserLogAppend); err != nil {
			if log != nil {
				log.Close()
			}
			return nil, err
		}
	}
	master, err := pollable(cfg.Master)
	if err != nil {
		if log != nil {
			log.Close()
		}
		if userLog != nil {
			userLog.Close()
		}
		return nil, err
	}
	m := &Mux{
		cfg:       cfg,
		master:    master,
		log:       log,
		userLog:   userLog,
		ring:      newRing(cfg.RingBytes),
		clients:   make(map[*client]struct{}),
		listeners: make(map[net.Listener]struct{}),
		done:      make(chan struct{}),
		pumpDone:  make(chan struct{}),
	}
	go m.pump()
	return m, nil
}

// Serve accepts clients on l until Close, which closes l. It returns nil
// after Close and an error if accepting fails for good. Each connection must
// come from uid 0 or the Mux's own uid (SO_PEERCRED); others are dropped.
func (m *Mux) Serve(l net.Listener) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		l.Close()
		return nil
	}
	m.listeners[l] = struct{}{}
	m.mu.Unlock()

	backoff := 5 * time.Millisecond
	for {
		conn, err := l.Accept()
		if err != nil {
			if m.isClosed() {
				return nil
			}
			if isTemporaryAccept(err) {
				// Out of fds or memory: wait instead of spinning, and keep serving.
				select {
				case <-time.After(backoff):
					backoff = min(2*backoff, time.Second)
					continue
				case <-m.done:
					return nil
				}
			}
			return fmt.Errorf("accept console client: %w", err)
		}
		backoff = 5 * time.Millisecond
		if err := checkPeer(conn); err != nil {
			conn.Close()
			continue
		}
		m.attach(conn)
	}
}

// Clients returns the number of attached clients.
func (m *Mux) Clients() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.clients)
}

// Close stops the Mux: it reads what the guest has left in the pty, gives
// every client its remaining output and a "guest NAME stopped" notice (each
// within a grace period), disconnects them, closes the listeners and the
// master, and closes the log. It returns the first log error, if any.
func (m *Mux) Close() error {
	m.once.Do(func() {
		m.mu.Lock()
		m.closed = true
		for l := range m.listeners {
			l.Close()
		}
		m.mu.Unlock()

		close(m.done)
		// Wake the pump: it drains the pty without blocking and exits.
		_ = m.master.SetReadDeadline(time.Now())
		<-m.pumpDone

		m.mu.Lock()
		clients := make([]*client, 0, len(m.clients))
		for c := range m.clients {
			clients = append(clients, c)
		}
		m.mu.Unlock()
		msg := "guest stopped"
		if m.cfg.Name != "" {
			msg = fmt.Sprintf("guest %s stopped", m.cfg.Name)
		}
		for _, c := range clients {
			c.stop(msg)
		}
		// Closing the master also releases a reader stuck writing input that
		// the guest never consumed.
		m.master.Close()
		m.wg.Wait()
		if m.log != nil {
			m.closeErr = m.log.Close()
		}
		if m.userLog != nil {
			if err := m.userLog.Close(); err != nil && m.closeErr == nil {
				m.closeErr = err
			}
		}
	})
	return m.closeErr
}

func (m *Mux) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// pump copies the master's output to the log, the ring and the clients until
// Close, a batch at a time.
func (m *Mux) pump() {
	defer close(m.pumpDone)
	rc, err := m.master.SyscallConn()
	if err != nil { // only for a closed file, which the master is not yet
		return
	}
	backoff := time.Duration(0)
	for {
		delivered, err := readBatches(rc, m.broadcast) // broadcast copies what it keeps
		if delivered {
			backoff = 0
		}
		if err == nil {
			continue
		}
		select {
		case <-m.done:
			m.drain()
			return
		default:
		}
		if errors.Is(err, os.ErrClosed) {
			return
		}
		// EIO: no slave is open (init closed /dev/console and the supervisor
		// keeps no slave of its own); anything else unexpected: retry too.
		// Either way wait, doubling up to half a second, never spin.
		backoff = min(max(2*backoff, 10*time.Millisecond), 500*time.Millisecond)
		select {
		case <-time.After(backoff):
		case <-m.done:
			m.drain()
			return
		}
	}
}

// drain reads what is left in the pty without waiting, up to maxDrain bytes
// (a guest still printing must not keep Close from returning).
func (m *Mux) drain() {
	bp := pumpBufs.Get().(*[]byte)
	defer pumpBufs.Put(bp)
	buf := *bp
	for total := 0; total < maxDrain; {
		n, err := readNonblock(m.master, buf)
		if n > 0 {
			m.broadcast(buf[:n])
			total += n
		}
		if err != nil || n == 0 {
			return
		}
	}
}

// broadcast hands one batch of output to every client, the ring and the
// log. Clients come first: an echoed keystroke reaches the socket before the
// log write.
func (m *Mux) broadcast(p []byte) {
	m.mu.Lock()
	m.ring.Write(p)
	var chunk []byte // p's copy for the queues, made once when one needs it
	var waiting []*client
	for c := range m.clients {
		if c.writeNow(p) {
			continue
		}
		if chunk == nil {
			chunk = bytes.Clone(p) // shared, read-only, by the queues
		}
		if !c.enqueue(chunk) { // never blocks: a full queue drops, or
			waiting = append(waiting, c) // a lossless client waits, below
		}
	}
	m.mu.Unlock()
	// Backpressure, outside mu (clients come and go meanwhile): the pump
	// reads nothing more from the pty until each lossless client has room,
	// so the guest's writes to this console block once the pty's buffer is
	// full, for everyone. Nothing is lost for anyone: the other clients'
	// queues and the log just wait too.
	for _, c := range waiting {
		c.waitEnqueue(chunk, m.cfg.LosslessStall)
	}
	if m.log != nil {
		m.log.Write(p)
	}
	if m.userLog != nil {
		m.userLog.Write(p)
	}
}

// attach registers conn as a client: ring replay first, then the live
// stream. Both are taken under mu, so the client sees every byte exactly once.
func (m *Mux) attach(conn net.Conn) {
	c := newClient(m, conn)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		conn.Close()
		return
	}
	replay := m.ring.Bytes()
	m.clients[c] = struct{}{}
	m.wg.Add(2)
	m.mu.Unlock()
	go c.writeLoop(replay)
	go c.readLoop()
}

// detach forgets c.
func (m *Mux) detach(c *client) {
	m.mu.Lock()
	delete(m.clients, c)
	m.mu.Unlock()
}

// input writes a client's bytes to the guest.
func (m *Mux) input(p []byte) error {
	m.inMu.Lock()
	defer m.inMu.Unlock()
	m.framedIn.Add(int64(len(p)))
	_, err := m.master.Write(p)
	return err
}

// resize sets the guest's window size; the last request wins.
func (m *Mux) resize(rows, cols uint16) error {
	if rows == 0 || cols == 0 {
		return nil // a terminal that does not know its size: keep the old one
	}
	return setWinsize(m.master, rows, cols)
}
