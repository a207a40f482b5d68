package libvirtrpc

import (
	"errors"
	"io"
	"sync"
)

// stream is an open virStream: a console, here. Data from the client is
// written to rw in the reader's order; data from rw goes out as
// STREAM/CONTINUE packets of the call that opened it.
type stream struct {
	c    *conn
	h    Header // the opening call's header (proc, serial)
	rw   io.ReadWriteCloser
	once sync.Once
}

func (st *stream) abort() { st.once.Do(func() { _ = st.rw.Close() }) }

// openStream registers a stream for the call h; start (after the call's
// reply is queued) pumps its output.
func (c *conn) openStream(h Header, rw io.ReadWriteCloser) (start func()) {
	st := &stream{c: c, h: h, rw: rw}
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		st.abort()
		return func() {}
	default:
	}
	c.streams[h.Serial] = st
	c.mu.Unlock()
	return func() {
		c.wg.Add(1)
		go st.pump()
	}
}

func (st *stream) header(status uint32) Header {
	h := st.h
	h.Type, h.Status = typeStream, status
	return h
}

// pump sends rw's output to the client until rw ends, then an empty
// STREAM/OK (end of stream), as libvirtd does when a domain's console closes.
func (st *stream) pump() {
	c := st.c
	defer c.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := st.rw.Read(buf)
		if n > 0 {
			if !c.send(st.header(statusContinue), append([]byte(nil), buf[:n]...)) {
				st.abort()
				return
			}
		}
		if err != nil {
			if !c.removeStream(st) {
				return // the client finished or aborted it already
			}
			st.abort()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
				c.send(st.header(statusOK), nil)
			} else {
				c.send(st.header(statusError), errorf(1, "console: %v", err).body())
			}
			return
		}
	}
}

// removeStream forgets st; false if it was gone already.
func (c *conn) removeStream(st *stream) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streams[st.h.Serial] != st {
		return false
	}
	delete(c.streams, st.h.Serial)
	return true
}

// streamPacket handles a STREAM packet from the client: data (CONTINUE),
// finish (OK, answered with OK: virsh waits for it after Ctrl-]) or abort
// (ERROR). Packets of unknown streams are dropped.
func (c *conn) streamPacket(h Header, body []byte) {
	c.mu.Lock()
	st := c.streams[h.Serial]
	c.mu.Unlock()
	if st == nil {
		return
	}
	switch h.Status {
	case statusContinue:
		if len(body) > 0 {
			if _, err := st.rw.Write(body); err != nil {
				if c.removeStream(st) {
					st.abort()
					c.send(st.header(statusError), errorf(1, "console: %v", err).body())
				}
			}
		}
	case statusOK:
		if c.removeStream(st) {
			st.abort()
			c.send(st.header(statusOK), nil)
		}
	default:
		if c.removeStream(st) {
			st.abort()
		}
	}
}
