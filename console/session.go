package console

import (
	"bufio"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// markerRoom is the most bytes the "output dropped" marker takes.
const markerRoom = 128

// maxBatch is how much queued output one socket write carries at most.
const maxBatch = 64 << 10

// client is one attached connection, seen from the Mux. Two goroutines serve
// it: writeLoop (queue -> socket) and readLoop (socket -> master). Either one
// ending ends the client (shutdown closes the connection under the other).
type client struct {
	m    *Mux
	conn net.Conn

	rc syscall.RawConn // conn's descriptor, for writeNow; nil in unit tests

	// qmu guards the fields below: the output queue, bounded in bytes
	// (ClientQueueBytes) counted until the bytes are written to the socket.
	qmu     sync.Mutex
	partial []byte   // framed bytes a direct write left over: sent first
	pending [][]byte // chunks shared read-only with the other clients
	queued  int64
	dropped int64 // output this client missed and has not been told about
	// busy: writeLoop is writing (the replay, or bytes it took), so the
	// pump must queue rather than write to the socket itself.
	busy bool
	// lossless: output that does not fit waits for room (waitEnqueue)
	// instead of being dropped (FrameLossless).
	lossless bool
	// heldBack counts the chunks that waited for room in this lossless
	// client's queue: each one held the guest's console back.
	heldBack atomic.Int64

	wake     chan struct{} // cap 1: pending has something
	room     chan struct{} // cap 1: writeLoop sent some of the queue
	gone     chan struct{} // closed by shutdown
	stopping chan struct{} // closed by stop (Mux.Close)
	stopMsg  string        // set before stopping is closed
	once     sync.Once
}

func newClient(m *Mux, conn net.Conn) *client {
	return &client{
		m:        m,
		conn:     conn,
		rc:       connRaw(conn),
		busy:     true, // until the replay is out
		wake:     make(chan struct{}, 1),
		room:     make(chan struct{}, 1),
		gone:     make(chan struct{}),
		stopping: make(chan struct{}),
	}
}

// enqueue offers chunk to the client without ever blocking. Output that does
// not fit is dropped and accounted; once the queue has room again, a marker
// tells the user how much they missed. For a lossless client it queues
// nothing when chunk does not fit and reports false: the pump then waits
// (waitEnqueue).
func (c *client) enqueue(chunk []byte) bool {
	limit := int64(c.m.cfg.ClientQueueBytes)
	c.qmu.Lock()
	if c.lossless && c.queued > 0 && c.queued+int64(len(chunk)) > limit {
		c.qmu.Unlock()
		return false
	}
	if c.dropped > 0 {
		// Still no room: keep dropping without formatting the marker.
		if c.queued+markerRoom+int64(len(chunk)) > limit {
			c.dropped += int64(len(chunk))
			c.qmu.Unlock()
			return true
		}
		marker := fmt.Appendf(nil, "\r\n[vmlite: %d bytes of console output dropped: this client read too slowly]\r\n", c.dropped)
		c.pending = append(c.pending, marker)
		c.queued += int64(len(marker))
		c.dropped = 0
	}
	if !c.lossless && c.queued+int64(len(chunk)) > limit {
		c.dropped += int64(len(chunk))
		c.qmu.Unlock()
		return true
	}
	c.pending = append(c.pending, chunk)
	c.queued += int64(len(chunk))
	c.qmu.Unlock()
	c.signal()
	return true
}

// signal wakes writeLoop.
func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default: // already signalled
	}
}

// isLossless reports whether the client asked for every byte.
func (c *client) isLossless() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.lossless
}

// waitEnqueue queues chunk for a lossless client once its queue has room,
// waiting at most stall: a client that reads nothing for that long is
// disconnected (its Attach reports the lost connection, exit 1) rather
// than hold the guest's console any longer. When the Mux closes, the chunk
// is queued regardless (the drain is bounded by maxDrain).
func (c *client) waitEnqueue(chunk []byte, stall time.Duration) {
	t := time.NewTimer(stall)
	defer t.Stop()
	for held := false; !c.enqueue(chunk); held = true {
		if !held {
			c.heldBack.Add(1)
		}
		select {
		case <-c.room:
		case <-c.gone:
			return
		case <-c.m.done:
			c.qmu.Lock()
			c.pending = append(c.pending, chunk)
			c.queued += int64(len(chunk))
			c.qmu.Unlock()
			c.signal()
			return
		case <-t.C:
			c.shutdown()
			return
		}
	}
}

// writeNow writes p as one data frame straight to the socket when nothing is
// queued or being written and the socket takes it without waiting: the
// common case of a client that keeps up, which then costs no copy and no
// hand-off to writeLoop. What the socket does not take is queued, framed,
// for writeLoop. It reports false when p is to be queued with enqueue.
func (c *client) writeNow(p []byte) bool {
	if c.rc == nil || len(p) > MaxPayload {
		return false
	}
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.busy || c.partial != nil || len(c.pending) > 0 || c.dropped > 0 {
		return false
	}
	hdr := [headerLen]byte{byte(FrameData), byte(len(p) >> 8), byte(len(p))}
	n, err := writeNow(c.rc, hdr[:], p)
	switch {
	case err != nil:
		return true // the connection is gone: readLoop ends the client
	case n == 0:
		return false
	case n == headerLen+len(p):
		return true
	}
	// A partial write: the rest of the frame goes first, whatever its size
	// (at most one batch), so that the stream stays well-formed.
	c.partial = AppendFrame(nil, FrameData, p)[n:]
	c.queued += int64(len(c.partial))
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// take moves up to maxBatch bytes of queued output into buf as data frames
// and returns buf and the number of payload bytes taken.
func (c *client) take(buf []byte) ([]byte, int64) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	var n int64
	if c.partial != nil {
		buf = append(buf, c.partial...)
		n += int64(len(c.partial))
		c.partial = nil
	}
	i, last := 0, -1
	for ; i < len(c.pending) && (i == 0 || len(buf) < maxBatch); i++ {
		buf, last = appendDataTo(buf, last, c.pending[i])
		n += int64(len(c.pending[i]))
	}
	rest := copy(c.pending, c.pending[i:])
	clear(c.pending[rest:]) // let the GC have the chunks
	c.pending = c.pending[:rest]
	c.busy = n > 0 // until sent
	if rest > 0 {
		select { // more to do: keep writeLoop going
		case c.wake <- struct{}{}:
		default:
		}
	}
	return buf, n
}

// sent releases n bytes of the queue once they are in the socket, and lets
// the pump write directly again.
func (c *client) sent(n int64) {
	c.qmu.Lock()
	c.queued -= n
	c.busy = false
	c.qmu.Unlock()
	select {
	case c.room <- struct{}{}:
	default:
	}
}

// writeLoop sends the replay, then the live output, batching whatever is
// queued into one write.
func (c *client) writeLoop(replay []byte) {
	defer c.m.wg.Done()
	defer c.shutdown()
	if err := c.m.sendWithMaster(c.conn, AppendFrame(appendData(nil, replay), FrameReplayed, nil)); err != nil {
		return
	}
	c.sent(0)
	var buf []byte
	for {
		select {
		case <-c.wake:
			var n int64
			buf, n = c.take(buf[:0])
			if _, err := c.conn.Write(buf); err != nil {
				return
			}
			c.sent(n)
		case <-c.gone:
			return
		case <-c.stopping:
			// The pump has exited: everything the guest printed is queued.
			buf = buf[:0]
			for {
				var n int64
				if buf, n = c.take(buf); n == 0 {
					break
				}
			}
			buf = AppendFrame(buf, FrameStopped, []byte(c.stopMsg))
			_, _ = c.conn.Write(buf) // deadline set by stop
			return
		}
	}
}

// readLoop applies the client's frames: input to the master, resizes to the
// pty. A protocol violation disconnects the client.
func (c *client) readLoop() {
	defer c.m.wg.Done()
	defer c.shutdown()
	dec := NewDecoder(bufio.NewReaderSize(c.conn, 4096))
	for {
		f, err := dec.ReadFrame()
		if err != nil {
			return
		}
		switch f.Kind {
		case FrameData:
			if err := c.m.input(f.Payload); err != nil {
				return
			}
		case FrameResize:
			_ = c.m.resize(f.Size()) // a failed resize is not worth a disconnect
		case FrameLossless:
			c.qmu.Lock()
			c.lossless = true
			c.qmu.Unlock()
		default:
			return // FrameStopped and FrameReplayed are the Mux's to send
		}
	}
}

// stop makes writeLoop flush, send msg and end, within stopGrace.
func (c *client) stop(msg string) {
	c.stopMsg = msg
	_ = c.conn.SetWriteDeadline(time.Now().Add(stopGrace))
	close(c.stopping)
}

// shutdown ends the client; idempotent.
func (c *client) shutdown() {
	c.once.Do(func() {
		c.m.detach(c)
		close(c.gone)
		c.conn.Close()
	})
}
