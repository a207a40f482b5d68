package libvirtrpc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

// DefaultMaxConns is the default limit on open client connections
// (libvirtd's max_clients is 5000 with 20 workers; every vmlite connection
// costs two goroutines and a 256-packet queue at most).
const DefaultMaxConns = 1024

// Config configures a Server.
type Config struct {
	Backend Backend
	// MaxConns bounds open connections; more are closed at accept.
	MaxConns int
	// Authorize names the peer of a new connection and decides whether
	// it may use mutating procedures; an error refuses the connection.
	// nil allows everyone the listener admits.
	Authorize func(nc net.Conn) (peer string, readWrite bool, err error)
	// Logf receives diagnostics (nil: discarded).
	Logf func(format string, args ...any)
}

// Server serves libvirt's remote protocol on any number of listeners.
type Server struct {
	cfg    Config
	nextCb atomic.Int32
	open   atomic.Int32
	calls  atomic.Uint64

	mu    sync.Mutex
	conns map[*conn]struct{}
	lns   []net.Listener
	wg    sync.WaitGroup
	done  chan struct{}
	once  sync.Once
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	return &Server{cfg: cfg, conns: map[*conn]struct{}{}, done: make(chan struct{})}
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// Serve accepts connections on l until the server is closed. readOnly
// makes every connection of l read-only (libvirt-sock-ro).
func (s *Server) Serve(l net.Listener, readOnly bool) error {
	return s.serve(l, readOnly, s.cfg.Authorize)
}

// ServeTLS serves libvirt's TLS transport on l: clients present a
// certificate signed by cfg's CA, and one whose DN matches allowedDNs
// (any, when empty) gets read-write access.
func (s *Server) ServeTLS(l net.Listener, cfg *tls.Config, allowedDNs []string) error {
	return s.serve(tls.NewListener(l, cfg), false, TLSAuthorizer(allowedDNs))
}

func (s *Server) serve(l net.Listener, readOnly bool, auth func(net.Conn) (string, bool, error)) error {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return net.ErrClosed
	default:
	}
	s.lns = append(s.lns, l)
	s.mu.Unlock()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			select {
			case <-s.done:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				// Out of fds: back off instead of spinning (net/http does the same).
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logf("accept: %v; retrying in %v", err, delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.serveConn(nc, readOnly, auth)
	}
}

// ServeConn serves one accepted connection in its own goroutines.
func (s *Server) ServeConn(nc net.Conn, readOnly bool) { s.serveConn(nc, readOnly, s.cfg.Authorize) }

func (s *Server) serveConn(nc net.Conn, readOnly bool, auth func(net.Conn) (string, bool, error)) {
	if int(s.open.Add(1)) > s.cfg.MaxConns {
		s.open.Add(-1)
		s.logf("connection limit %d reached; refusing a client", s.cfg.MaxConns)
		_ = nc.Close()
		return
	}
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		s.open.Add(-1)
		_ = nc.Close()
		return
	default:
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer s.open.Add(-1)
		// Authorisation may take a TLS handshake: here, not in the accept loop.
		peer, rw := nc.RemoteAddr().String(), true
		if auth != nil {
			var err error
			if peer, rw, err = auth(nc); err != nil {
				s.logf("client %s refused: %v", peer, err)
				_ = nc.Close()
				return
			}
		}
		c := newConn(s, nc, peer, readOnly || !rw)
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			_ = nc.Close()
			return
		default:
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		c.serve()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

// Conns returns the number of open connections.
func (s *Server) Conns() int { return int(s.open.Load()) }

// Calls returns how many calls the server has dispatched (to see that it
// was idle for a while).
func (s *Server) Calls() uint64 { return s.calls.Load() }

// Run pumps the backend's events to the registered callbacks until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	ch := make(chan Event, 256)
	errc := make(chan error, 1)
	go func() { errc <- s.cfg.Backend.Events(ctx, ch) }()
	for {
		select {
		case ev := <-ch:
			s.broadcast(ev)
		case err := <-errc:
			return err
		}
	}
}

func (s *Server) broadcast(ev Event) {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.deliver(ev)
	}
}

// Close stops accepting, closes every connection and waits for them.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		close(s.done)
		for _, l := range s.lns {
			_ = l.Close()
		}
		for c := range s.conns {
			c.close()
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
	return nil
}

// deliver sends ev to each of c's callbacks that wants it.
func (c *conn) deliver(ev Event) {
	type out struct {
		proc int32
		body any
	}
	var msgs []out
	c.mu.Lock()
	if ev.Network {
		for id, cb := range c.netCbs {
			if cb.eventID == int32(libvirt.NetworkEventIDLifecycle) && (cb.uuid == nil || *cb.uuid == ev.UUID) {
				msgs = append(msgs, out{procNetworkEventLifecycle, &libvirt.NetworkEventLifecycleMsg{
					CallbackID: id, Net: libvirt.Network{Name: ev.Name, UUID: ev.UUID}, Event: ev.Type, Detail: ev.Detail}})
			}
		}
	} else {
		dom := libvirt.Domain{Name: ev.Name, UUID: ev.UUID, ID: ev.ID}
		for id, cb := range c.domCbs {
			if cb.uuid != nil && *cb.uuid != ev.UUID {
				continue
			}
			switch {
			case ev.Reboot && cb.eventID == int32(libvirt.DomainEventIDReboot):
				msgs = append(msgs, out{procDomainEventCallbackReboot, &libvirt.DomainEventCallbackRebootMsg{
					CallbackID: id, Msg: libvirt.DomainEventRebootMsg{Dom: dom}}})
			case !ev.Reboot && cb.eventID == int32(libvirt.DomainEventIDLifecycle):
				msgs = append(msgs, out{procDomainEventCallbackLifecycle, &libvirt.DomainEventCallbackLifecycleMsg{
					CallbackID: id, Msg: libvirt.DomainEventLifecycleMsg{Dom: dom, Event: ev.Type, Detail: ev.Detail}}})
			}
		}
	}
	c.mu.Unlock()
	for _, m := range msgs {
		b, err := encode(m.body)
		if err != nil {
			continue
		}
		// libvirtd sends events as MESSAGE, serial 1, status OK
		// (remoteDispatchObjectEventSend).
		c.sendEvent(Header{Program: remoteProgram, Version: remoteVersion, Procedure: m.proc, Type: typeMessage, Serial: 1}, b)
	}
}

func procName(p int32) string { return fmt.Sprintf("remote procedure %d", p) }
