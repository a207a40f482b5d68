package cli

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync"

	"vmlite/console"
)

// consoleStream is one more client of a guest's console multiplexer, as a
// byte stream for an RPC console: guest output out of Read (the ring's
// replay first, as `vmlite console` shows it), input into Write; the
// guest stopping is io.EOF.
type consoleStream struct {
	nc  net.Conn
	dec *console.Decoder
	wmu sync.Mutex
	buf []byte
}

func dialConsoleStream(ctx context.Context, sock string) (*consoleStream, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, err
	}
	return &consoleStream{nc: nc, dec: console.NewDecoder(bufio.NewReader(nc))}, nil
}

func (s *consoleStream) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		f, err := s.dec.ReadFrame()
		if err != nil {
			return 0, io.EOF // the multiplexer went away: end of stream
		}
		switch f.Kind {
		case console.FrameData:
			s.buf = append(s.buf[:0], f.Payload...)
		case console.FrameStopped:
			return 0, io.EOF
		}
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

func (s *consoleStream) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var out []byte
	for rest := p; len(rest) > 0; {
		n := min(len(rest), 0xffff)
		out = console.AppendFrame(out, console.FrameData, rest[:n])
		rest = rest[n:]
	}
	if _, err := s.nc.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s *consoleStream) Close() error { return s.nc.Close() }
