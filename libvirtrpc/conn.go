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
	// is dropped once this fills too.
	eventQueueLen = 4096
	// maxCallsPerConn bounds the calls of one client running at once.
	maxCallsPerConn = 8
	// writeTimeout drops a client that takes one packet longer than this.
	writeTimeout = 30 * time.Second
)

// conn is one client connection.
type conn struct {
	s        *Server
	nc       net.Conn
	peer     string
	readOnly bool

	out    chan []byte
	events chan []byte
	calls  chan struct{}
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

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
		s: s, nc: nc, peer: peer, readOnly: readOnly,
		out:     make(chan []byte, outQueueLen),
		events:  make(chan []byte, eventQueueLen),
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
	br := bufio.NewReaderSize(c.nc, 64<<10)
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

// handle routes one packet. Keepalive and stream data are handled inline,
// in order; calls run concurrently (a slow shutdown does not hold up the
// client's keepalive pings).
func (c *conn) handle(h Header, body []byte) {
	switch {
	case h.Program == keepaliveProgram:
		if h.Type == typeMessage && h.Procedure == keepalivePing {
			c.send(Header{Program: keepaliveProgram, Version: keepaliveVersion, Procedure: keepalivePong, Type: typeMessage}, nil)
		}
		return
	case h.Program != remoteProgram || h.Version != remoteVersion:
		if h.Type == typeCall {
			c.replyError(h, errRPC("cannot find program %d version %d", h.Program, h.Version))
		}
		return
	}
	switch h.Type {
	case typeCall:
		c.call(h, append([]byte(nil), body...))
	case typeCallWithFDs:
		c.replyError(h, errRPC("procedure %d: passing file descriptors is not supported", h.Procedure))
	case typeStream:
		c.streamPacket(h, body)
	default:
		// Replies and messages from a client mean nothing here: drop them,
		// as libvirtd does.
	}
}

func (c *conn) call(h Header, body []byte) {
	hd, ok := handlers[h.Procedure]
	if !ok {
		if h.Procedure > 0 && h.Procedure <= lastRemoteProcNum {
			c.replyError(h, errNoSupport(procName(h.Procedure)))
		} else {
			c.replyError(h, errRPC("unknown procedure: %d", h.Procedure))
		}
		return
	}
	c.mu.Lock()
	opened := c.opened
	c.mu.Unlock()
	if !opened && !hd.beforeOpen {
		c.replyError(h, errRPC("procedure %d: the connection is not open (call CONNECT_OPEN first)", h.Procedure))
		return
	}
	if hd.write && c.readOnly {
		c.replyError(h, errDenied(h.Procedure))
		return
	}
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
	f, err := AppendFrame(nil, h, body)
	if err != nil {
		return
	}
	select {
	case c.events <- f:
	case <-c.done:
	default:
		c.s.logf("client %s: not reading (%d events queued); dropping it", c.peer, eventQueueLen)
		c.close()
	}
}

// eventLoop moves events into the output queue, waiting when it is full.
func (c *conn) eventLoop() {
	defer c.wg.Done()
	for {
		select {
		case f := <-c.events:
			select {
			case c.out <- f:
			case <-c.done:
				return
			}
		case <-c.done:
			return
		}
	}
}

func (c *conn) writeLoop() {
	defer c.wg.Done()
	for {
		select {
		case f := <-c.out:
			_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := c.nc.Write(f); err != nil {
				c.close()
				return
			}
		case <-c.done:
			return
		}
	}
}
