package console

import (
	"bufio"
	"fmt"
	"net"
	"sync"
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

	// qmu guards the fields below: the output queue, bounded in bytes
	// (ClientQueueBytes) counted until the bytes are written to the socket.
	qmu     sync.Mutex
	pending [][]byte // chunks shared read-only with the other clients
	queued  int64
	dropped int64 // output this client missed and has not been told about

	wake     chan struct{} // cap 1: pending has something
	gone     chan struct{} // closed by shutdown
	stopping chan struct{} // closed by stop (Mux.Close)
	stopMsg  string        // set before stopping is closed
	once     sync.Once
}

func newClient(m *Mux, conn net.Conn) *client {
	return &client{
		m:        m,
		conn:     conn,
		wake:     make(chan struct{}, 1),
		gone:     make(chan struct{}),
		stopping: make(chan struct{}),
	}
}

// enqueue offers chunk to the client without ever blocking. Output that does
// not fit is dropped and accounted; once the queue has room again, a marker
// tells the user how much they missed.
func (c *client) enqueue(chunk []byte) {
	limit := int64(c.m.cfg.ClientQueueBytes)
	c.qmu.Lock()
	if c.dropped > 0 {
		// Still no room: keep dropping without formatting the marker.
		if c.queued+markerRoom+int64(len(chunk)) > limit {
			c.dropped += int64(len(chunk))
			c.qmu.Unlock()
			return
		}
		marker := fmt.Appendf(nil, "\r\n[vmlite: %d bytes of console output dropped: this client read too slowly]\r\n", c.dropped)
		c.pending = append(c.pending, marker)
		c.queued += int64(len(marker))
		c.dropped = 0
	}
	if c.queued+int64(len(chunk)) > limit {
		c.dropped += int64(len(chunk))
		c.qmu.Unlock()
		return
	}
	c.pending = append(c.pending, chunk)
	c.queued += int64(len(chunk))
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // already signalled
	}
}

// take moves up to maxBatch bytes of queued output into buf as data frames
// and returns buf and the number of payload bytes taken.
func (c *client) take(buf []byte) ([]byte, int64) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	var n int64
	i, last := 0, -1
	for ; i < len(c.pending) && (i == 0 || len(buf) < maxBatch); i++ {
		buf, last = appendDataTo(buf, last, c.pending[i])
		n += int64(len(c.pending[i]))
	}
	rest := copy(c.pending, c.pending[i:])
	clear(c.pending[rest:]) // let the GC have the chunks
	c.pending = c.pending[:rest]
	if rest > 0 {
		select { // more to do: keep writeLoop going
		case c.wake <- struct{}{}:
		default:
		}
	}
	return buf, n
}

// sent releases n bytes of the queue once they are in the socket.
func (c *client) sent(n int64) {
	c.qmu.Lock()
	c.queued -= n
	c.qmu.Unlock()
}

// writeLoop sends the replay, then the live output, batching whatever is
// queued into one write.
func (c *client) writeLoop(replay []byte) {
	defer c.m.wg.Done()
	defer c.shutdown()
	if _, err := c.conn.Write(AppendFrame(appendData(nil, replay), FrameReplayed, nil)); err != nil {
		return
	}
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
