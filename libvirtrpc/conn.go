package libvirtrpc

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Per-connection bounds.
const (
	// outQueueLen is how many packets may wait for a client to read them;
	// a full queue blocks only that client's own replies and console, and
	// an event that finds it full drops the client.
	outQueueLen = 256
	// eventQueueLen is how many events may wait behind a full outQueue: a
	// burst does not drop a client that reads, one that stopped reading
	// is dropped once this fills too. The queue holds what waits, no
	// more: a 4096-slot channel was 96 KiB per connection, zeroed (so
	// resident) at connect.
	eventQueueLen = 4096
	// readBufLen is the reader's buffer: calls are small, and a bigger
	// packet is read straight into its own buffer (ReadFrame).
	readBufLen = 4 << 10
	// maxCallsPerConn bounds the calls of one client running at once.
	maxCallsPerConn = 8
)

// writeTimeout drops a client that takes one packet longer than this (a
// variable for the tests).
var writeTimeout = 30 * time.Second

// conn is one client connection.
type conn struct {
	s        *Server
	nc       net.Conn
	peer     string
	readOnly bool
	// raw is the unix socket's raw I/O (nil: a TLS connection, whose
	// net.Conn calls are used).
	raw *rawIO

	out   chan []byte
	calls chan struct{}
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	// wmu puts one packet at a time on the socket: the writer's queued
	// packets and the replies the reader writes itself (quick calls).
	wmu sync.Mutex
	// evQ is the events waiting for room in out (at most eventQueueLen);
	// evWake tells eventLoop there are some.
	evMu   sync.Mutex
	evQ    [][]byte
	evWake chan struct{}

	// rbuf is the reader's reply buffer, reused from one quick call to the
	// next (only the reader goroutine touches it).
	rbuf []byte

	mu      sync.Mutex
	opened  bool
	domCbs  map[int32]domCallback
	netCbs  map[int32]netCallback
	streams map[uint32]*stream
}

type domCallback struct {
	eventID int32
	uuid    *[16]byte // nil: every domain
}

type netCallback struct {
	eventID int32
	uuid    *[16]byte
}

func newConn(s *Server, nc net.Conn, peer string, readOnly bool) *conn {
	return &conn{
		s: s, nc: nc, peer: peer, readOnly: readOnly, raw: newRawIO(nc),
		out:     make(chan []byte, outQueueLen),
		evWake:  make(chan struct{}, 1),
		calls:   make(chan struct{}, maxCallsPerConn),
		done:    make(chan struct{}),
		domCbs:  map[int32]domCallback{},
		netCbs:  map[int32]netCallback{},
		streams: map[uint32]*stream{},
	}
}

// close ends the connection: the socket, every stream, the writer.
func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.nc.Close()
		c.mu.Lock()
		for _, st := range c.streams {
			st.abort()
		}
		c.streams = map[uint32]*stream{}
		c.mu.Unlock()
	})
}

// serve runs the connection until the client goes or the server closes.
func (c *conn) serve() {
	defer c.wg.Wait()
	defer c.close()
	c.wg.Add(2)
	go c.writeLoop()
	go c.eventLoop()
	var r io.Reader = c.nc
	if c.raw != nil {
		r = c.raw
	}
	br := bufio.NewReaderSize(r, readBufLen)
	var buf []byte
	for {
		h, body, b, err := ReadFrame(br, buf)
		buf = b
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.s.logf("client %s: %v; closing", c.peer, err)
			}
			return
		}
		if cap(buf) > 1<<20 {
			buf = nil // do not pin a big packet's buffer for the connection's life
		}
		c.handle(h, body)
	}
}

// handle routes one packet. Keepalive, stream data and quick calls
// (quickProcs) are handled inline, in order; other calls run concurrently
// (a slow shutdown does not hold up the client's keepalive pings).
func (c *conn) handle(h Header, body []byte) {
	switch {
	case h.Program == keepaliveProgram:
		if h.Type == typeMessage && h.Procedure == keepalivePing {
			c.send(Header{Program: keepaliveProgram, Version: keepaliveVersion, Procedure: keepalivePong, Type: typeMessage}, nil)
		}
		return
	case h.Program != remoteProgram || h.Version != remoteVersion:
		if h.Type == typeCall {
			c.replyNow(h, nil, errRPC("cannot find program %d version %d", h.Program, h.Version))
		}
		return
	}
	switch h.Type {
	case typeCall:
		c.call(h, body)
	case typeCallWithFDs:
		c.replyNow(h, nil, errRPC("procedure %d: passing file descriptors is not supported", h.Procedure))
	case typeStream:
		c.streamPacket(h, body)
	default:
		// Replies and messages from a client mean nothing here: drop them,
		// as libvirtd does.
	}
}

// call runs one CALL. body aliases the reader's buffer: a quick call
// uses it before the next packet is read, any other gets a copy.
func (c *conn) call(h Header, body []byte) {
	hd, ok := handlers[h.Procedure]
	if !ok {
		if h.Procedure > 0 && h.Procedure <= lastRemoteProcNum {
			c.replyNow(h, nil, errNoSupport(procName(h.Procedure)))
		} else {
			c.replyNow(h, nil, errRPC("unknown procedure: %d", h.Procedure))
		}
		return
	}
	c.mu.Lock()
	opened, readOnly := c.opened, c.readOnly
	c.mu.Unlock()
	if !opened && !hd.beforeOpen {
		c.replyNow(h, nil, errRPC("procedure %d: the connection is not open (call CONNECT_OPEN first)", h.Procedure))
		return
	}
	if hd.write && readOnly {
		c.replyNow(h, nil, errDenied(h.Procedure))
		return
	}
	if quickProcs[h.Procedure] {
		// In the reader, reply written at once: no goroutine and no
		// writer hand-off per call (virsh list --all makes one GET_STATE
		// per guest, each waiting for the last).
		c.s.calls.Add(1)
		ret, after, err := c.run(hd, h, body)
		c.replyNow(h, ret, err)
		if after != nil {
			after()
		}
		return
	}
	body = append([]byte(nil), body...)
	select {
	case c.calls <- struct{}{}:
	case <-c.done:
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() { <-c.calls }()
		c.s.calls.Add(1)
		ret, after, err := c.run(hd, h, body)
		if err != nil {
			c.replyError(h, err)
			return
		}
		rh := h
		rh.Type, rh.Status = typeReply, statusOK
		c.send(rh, ret)
		if after != nil {
			after()
		}
	}()
}

// run calls a handler; a panic in one call is that call's error, never the
// daemon's end.
func (c *conn) run(hd handler, h Header, body []byte) (ret []byte, after func(), err error) {
	defer func() {
		if r := recover(); r != nil {
			c.s.logf("client %s: procedure %d panicked: %v", c.peer, h.Procedure, r)
			err = errorf(1, "internal error in procedure %d", h.Procedure)
		}
	}()
	return hd.fn(c, h, body)
}

func (c *conn) replyError(h Header, err error) {
	e := toError(err, false)
	rh := h
	rh.Type, rh.Status = typeReply, statusError
	c.send(rh, e.body())
}

// replyNow writes the reply to call h (ret, or err's remote_error) from
// the reader goroutine, in its reused buffer, without the writer's queue:
// a reply needs no order against queued events or stream data (clients
// match replies by serial). A client that does not read holds up only its
// own reader, until writeTimeout drops it.
func (c *conn) replyNow(h Header, ret []byte, err error) {
	rh := h
	rh.Type, rh.Status = typeReply, statusOK
	if err != nil {
		rh.Status, ret = statusError, toError(err, false).body()
	}
	f, ferr := AppendFrame(c.rbuf[:0], rh, ret)
	if ferr != nil {
		c.s.logf("client %s: %v", c.peer, ferr)
		rh.Status = statusError
		f, _ = AppendFrame(c.rbuf[:0], rh, errorf(1, "reply too large for libvirt's 16 MiB message limit").body())
	}
	_ = c.write(f)
	if cap(f) <= 1<<20 { // do not pin a big reply's buffer for the connection's life
		c.rbuf = f[:0]
	}
}

// write puts one whole packet on the socket; a failed write ends the
// connection.
func (c *conn) write(f []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var err error
	if c.raw != nil {
		err = c.raw.write(f)
	} else {
		_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err = c.nc.Write(f)
	}
	if err != nil {
		c.close()
		return err
	}
	return nil
}

// send queues a packet, waiting while the client's queue is full.
func (c *conn) send(h Header, body []byte) bool {
	f, err := AppendFrame(nil, h, body)
	if err != nil {
		c.s.logf("client %s: %v", c.peer, err)
		if h.Type == typeReply && h.Status == statusOK {
			return c.send(Header{Program: h.Program, Version: h.Version, Procedure: h.Procedure, Type: typeReply, Serial: h.Serial, Status: statusError},
				errorf(1, "reply too large for libvirt's 16 MiB message limit").body())
		}
		return false
	}
	select {
	case c.out <- f:
		return true
	case <-c.done:
		return false
	}
}

// sendEvent queues an event if there is room; a client whose queues are
// full does not read, and is dropped rather than allowed to hold up the
// sender (the event broadcast to every other client).
func (c *conn) sendEvent(h Header, body []byte) {
	select {
	case <-c.done:
		return
	default:
	}
	f, err := AppendFrame(nil, h, body)
	if err != nil {
		return
	}
	c.evMu.Lock()
	if len(c.evQ) >= eventQueueLen {
		c.evMu.Unlock()
		c.s.logf("client %s: not reading (%d events queued); dropping it", c.peer, eventQueueLen)
		c.close()
		return
	}
	c.evQ = append(c.evQ, f)
	c.evMu.Unlock()
	select {
	case c.evWake <- struct{}{}:
	default: // eventLoop has been told already
	}
}

// eventLoop moves events into the output queue, waiting when it is full.
func (c *conn) eventLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.evWake:
		case <-c.done:
			return
		}
		for {
			c.evMu.Lock()
			if len(c.evQ) == 0 {
				c.evQ = nil // the backing array goes with the burst
				c.evMu.Unlock()
				break
			}
			f := c.evQ[0]
			c.evQ[0], c.evQ = nil, c.evQ[1:]
			c.evMu.Unlock()
			select {
			case c.out <- f:
			case <-c.done:
				return
			}
		}
	}
}

func (c *conn) writeLoop() {
	defer c.wg.Done()
	for {
		select {
		case f := <-c.out:
			if c.write(f) != nil {
				return
			}
		case <-c.done:
			return
		}
	}
}
