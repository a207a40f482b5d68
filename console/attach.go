package console

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultEscape is the byte that detaches a client: Ctrl-] (0x1d), as in
// telnet and virsh console.
const DefaultEscape = 0x1d

// Errors returned by Attach besides a plain detach (nil).
var (
	// ErrGuestStopped: the guest stopped while the client was attached. The
	// message has been printed; the CLI treats it as success.
	ErrGuestStopped = errors.New("guest stopped")
	// ErrConnectionLost: the multiplexer went away without saying the guest
	// stopped (supervisor killed).
	ErrConnectionLost = errors.New("console connection lost")
	// ErrInterrupted: the client got SIGTERM, SIGHUP, SIGINT or SIGQUIT.
	ErrInterrupted = errors.New("interrupted")
	// ErrConnect: nobody answered on the console socket; nothing was
	// read from the input or written to the output.
	ErrConnect = errors.New("connect to console")
)

// AttachOptions tune Attach. The zero value suits an interactive user.
type AttachOptions struct {
	// Name and Device name the guest and console in messages.
	Name, Device string
	// Escape is the detach byte; 0 means DefaultEscape. NoEscape disables
	// detaching by key (binary-safe pipes).
	Escape   byte
	NoEscape bool
	// DetachOnEOF makes the end of a piped input detach. By default it does
	// not: a script piping commands in wants their output, which comes after
	// its input ended; it stops the client when the guest stops, with a
	// signal (timeout(1)) or with the escape byte in its input. On a
	// terminal, end of input (hang-up) always detaches.
	DetachOnEOF bool
	// Linger, with DetachOnEOF, waits after the end of input until the guest
	// has printed nothing for this long, so that the output of the last
	// command is not cut off.
	Linger time.Duration
	// Stderr receives the notices (connected, stopped) when out is not a
	// terminal, keeping out clean for scripts; nil discards them.
	Stderr io.Writer
	// Lossless asks the multiplexer to hold the guest's console back
	// rather than drop output this client is too slow for (see Mux).
	Lossless bool
}

func (o AttachOptions) escape() (byte, bool) {
	if o.NoEscape {
		return 0, false
	}
	if o.Escape == 0 {
		return DefaultEscape, true
	}
	return o.Escape, true
}

// EscapeName renders an escape byte in caret notation ("^]").
func EscapeName(b byte) string {
	switch {
	case b < 0x20:
		return "^" + string(rune(b+'@'))
	case b == 0x7f:
		return "^?"
	}
	return string(rune(b))
}

// ParseEscape parses an escape key: caret notation ("^]", "^A"), a single
// character, or "none" (ok false: no escape).
func ParseEscape(s string) (b byte, ok bool, err error) {
	switch {
	case s == "none":
		return 0, false, nil
	case len(s) == 2 && s[0] == '^' && s[1] == '?':
		return 0x7f, true, nil
	case len(s) == 2 && s[0] == '^' && s[1] >= '@' && s[1] <= '_':
		return s[1] - '@', s[1] != '@', nil
	case len(s) == 2 && s[0] == '^' && s[1] >= 'a' && s[1] <= 'z':
		return s[1] - 'a' + 1, true, nil
	case len(s) == 1 && s[0] > 0 && s[0] < 0x80:
		return s[0], true, nil
	}
	return 0, false, fmt.Errorf("escape key %q: want ^X, one ASCII character or none", s)
}

// scanEscape returns the part of p before the escape byte and whether the
// escape byte occurs; it looks at the whole buffer, wherever the byte is
// (a paste or a slow link delivers it mid-buffer).
func scanEscape(p []byte, esc byte, enabled bool) ([]byte, bool) {
	if !enabled {
		return p, false
	}
	for i, b := range p {
		if b == esc {
			return p[:i], true
		}
	}
	return p, false
}

// Attach connects in and out to the console socket at socketPath until the
// user detaches (escape byte; nil), the guest stops (ErrGuestStopped, after
// printing "guest NAME stopped"), the connection breaks (ErrConnectionLost),
// a signal arrives (ErrInterrupted) or ctx ends.
//
// When in is a terminal it is put in raw mode and restored on every way out,
// signals included; its size is sent on attach and on every SIGWINCH. The
// notice "Connected to guest NAME (DEV). Escape character is ^]" goes to out
// when out is a terminal, otherwise to opts.Stderr, so that out carries only
// the guest's bytes.
//
// When in is an *os.File, Attach stops reading it before it returns. Any
// other io.Reader is read by a goroutine that lingers until its Read returns.
func Attach(ctx context.Context, socketPath string, in io.Reader, out io.Writer, opts AttachOptions) (err error) {
	if in == nil {
		in = eofReader{}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socketPath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConnect, err)
	}
	defer conn.Close()

	inFd, inTerm := terminalFd(in)
	outFd, outTerm := terminalFd(out)
	notices := opts.Stderr
	if outTerm {
		notices = out
	}
	if notices == nil {
		notices = io.Discard
	}
	sizeFd, haveSize := inFd, inTerm
	if !haveSize {
		sizeFd, haveSize = outFd, outTerm
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, exitSignals...)
	defer signal.Stop(sigs)
	winch := make(chan os.Signal, 1)
	if haveSize {
		signal.Notify(winch, winchSignal)
		defer signal.Stop(winch)
	}

	esc, escOn := opts.escape()
	escNote := "disabled"
	if escOn {
		escNote = EscapeName(esc)
	}
	fmt.Fprintf(notices, "Connected to guest %s (%s). Escape character is %s\n", opts.Name, opts.Device, escNote)

	if inTerm {
		st, rawErr := makeRaw(inFd)
		if rawErr != nil {
			return rawErr
		}
		defer func() { // err is Attach's result here, not a shadow
			if rerr := st.restore(); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}

	// Input: in -> the guest's pty (direct_linux.go) or the socket. An
	// *os.File is read through an fdReader, which can be canceled, so no
	// goroutine outlives Attach. Set up first: it is the last step that
	// can fail.
	var fr inputReader
	if f, ok := in.(*os.File); ok {
		if fr, err = newInputReader(f, inTerm); err != nil {
			return err
		}
	}

	// Input read by a goroutine that may outlive Attach (an io.Reader
	// other than a file) never goes straight to the pty: the master is
	// closed when Attach returns.
	s := &attachSession{conn: conn, framed: fr == nil}
	s.master.Store(-1)
	defer func() {
		if fd := s.master.Swap(-1); fd >= 0 {
			unix.Close(int(fd))
		}
	}()
	// The output side reads with recvmsg, to take the master passed with
	// the replay (direct_linux.go).
	var outConn io.Reader = conn
	if uc, ok := conn.(*net.UnixConn); ok {
		outConn = newFdConn(uc, &s.master)
	}
	if opts.Lossless {
		if err := s.send(FrameLossless, nil); err != nil {
			return fmt.Errorf("%w: %w", ErrConnectionLost, err)
		}
	}
	if haveSize {
		s.sendSize(sizeFd)
	}

	// Output: socket -> out.
	var lastOutput atomic.Int64
	var stopMsg string
	outDone := make(chan error, 1)
	replayed := make(chan struct{})
	outEnded := make(chan struct{})
	ow, owDone := outputWriter(out)
	defer owDone() // after the output goroutine ended (loop waits for it)
	go func() {
		err := copyOutput(outConn, ow, &stopMsg, &lastOutput, replayed)
		close(outEnded)
		outDone <- err
	}()
	replayIn := make(chan struct{})
	go func() {
		select {
		case <-replayed:
		case <-outEnded:
		}
		close(replayIn)
	}()
	s.replayIn = replayIn

	inEv := make(chan inputEvent, 1) // buffered: the reader never blocks on it
	cancelIn, waitIn := func() {}, func() {}
	if fr != nil {
		done := make(chan struct{})
		cancelIn = fr.Cancel
		waitIn = func() { <-done; fr.Close() }
		go func() {
			defer close(done)
			inEv <- s.copyInput(fr, esc, escOn)
		}()
	} else {
		go func() { inEv <- s.copyInput(in, esc, escOn) }()
	}

	err = s.loop(ctx, loopArgs{
		inEv: inEv, outDone: outDone, sigs: sigs, winch: winch, sizeFd: sizeFd,
		detachOnEOF: inTerm || opts.DetachOnEOF, linger: opts.Linger, lastOutput: &lastOutput,
		cancelIn: cancelIn, stopMsg: &stopMsg, notices: notices, raw: inTerm, replayed: replayed,
	})
	waitIn()
	return err
}

// eofReader is an input that has ended (Attach with a nil input).
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// attachSession is the client's end of one connection.
type attachSession struct {
	conn net.Conn
	wmu  sync.Mutex // one frame at a time: input and resizes share the socket
	wbuf []byte
	// master is the guest's pty master the multiplexer passed with the
	// replay (-1: none), for writeDirect; framed is set once input went
	// through the socket (read and written by the input goroutine alone).
	// replayIn is closed once the replay has been read (or the connection
	// ended): the master, if any, has arrived by then.
	master   atomic.Int32
	framed   bool
	replayIn <-chan struct{}
}

func (s *attachSession) send(k Kind, p []byte) error {
	if k == FrameData {
		// Input waits for the replay, which comes first (at once): by
		// then it is known whether it can go straight to the pty.
		if s.replayIn != nil {
			<-s.replayIn
		}
		if p = s.writeDirect(p); len(p) == 0 {
			return nil
		}
		s.framed = true
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.wbuf = s.wbuf[:0]
	if k == FrameData {
		s.wbuf = appendData(s.wbuf, p)
	} else {
		s.wbuf = AppendFrame(s.wbuf, k, p)
	}
	_, err := s.conn.Write(s.wbuf)
	return err
}

func (s *attachSession) sendSize(fd int) {
	if rows, cols, err := termSize(fd); err == nil {
		_ = s.send(FrameResize, resizePayload(rows, cols))
	}
}

type inputEvent int

const (
	inputEscape inputEvent = iota
	inputEOF
	inputCanceled
	inputFailed
)

// copyInput sends input to the guest until the escape byte, EOF or an error.
// Bytes before the escape byte in the same buffer are sent.
func (s *attachSession) copyInput(r io.Reader, esc byte, escOn bool) inputEvent {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			data, found := scanEscape(buf[:n], esc, escOn)
			if len(data) > 0 {
				if s.send(FrameData, data) != nil {
					return inputFailed
				}
			}
			if found {
				return inputEscape
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return inputEOF
		case errors.Is(err, errCanceled):
			return inputCanceled
		default:
			return inputFailed
		}
	}
}

// copyOutput writes the guest's output to out until the connection ends. It
// closes replayed at the end of the replay, and returns nil after a
// FrameStopped (its message in *stopMsg) and ErrConnectionLost otherwise.
// Data frames that arrived together are written to out in one call (up to
// maxBatch bytes): one system call per socket read, not per frame.
func copyOutput(conn io.Reader, out io.Writer, stopMsg *string, last *atomic.Int64, replayed chan<- struct{}) error {
	replayDone := false
	br := bufio.NewReaderSize(conn, 32<<10)
	dec := NewDecoder(br)
	var pend []byte // payloads of data frames read but not yet written
	for {
		f, err := dec.ReadFrame()
		if err != nil {
			return ErrConnectionLost
		}
		switch f.Kind {
		case FrameData:
			last.Store(time.Now().UnixNano())
			p := f.Payload
			if len(pend) > 0 || (dataBuffered(br) && len(p) < maxBatch) {
				pend = append(pend, p...)
				if dataBuffered(br) && len(pend) < maxBatch {
					continue // take the next frame along
				}
				p = pend
			}
			pend = pend[:0]
			if _, err := out.Write(p); err != nil {
				return fmt.Errorf("write console output: %w", err)
			}
		case FrameReplayed:
			if !replayDone {
				replayDone = true
				close(replayed)
			}
		case FrameStopped:
			*stopMsg = string(f.Payload)
			return nil
		default:
			return fmt.Errorf("%w: %v from the multiplexer", ErrBadFrame, f.Kind)
		}
	}
}

// dataBuffered reports whether br holds a whole data frame, which can be
// decoded without waiting.
func dataBuffered(br *bufio.Reader) bool {
	if br.Buffered() < headerLen {
		return false
	}
	h, err := br.Peek(headerLen)
	if err != nil || Kind(h[0]) != FrameData {
		return false
	}
	return br.Buffered() >= headerLen+int(binary.BigEndian.Uint16(h[1:headerLen]))
}

type loopArgs struct {
	inEv        <-chan inputEvent
	outDone     <-chan error
	sigs, winch <-chan os.Signal
	sizeFd      int
	detachOnEOF bool
	linger      time.Duration
	lastOutput  *atomic.Int64
	cancelIn    func()
	stopMsg     *string
	notices     io.Writer
	raw         bool
	replayed    <-chan struct{} // closed when the replay is printed
}

// loop waits for the first reason to end and tears the session down.
func (s *attachSession) loop(ctx context.Context, a loopArgs) error {
	var lingerC <-chan time.Time
	var lingerT *time.Timer
	defer func() {
		if lingerT != nil {
			lingerT.Stop()
		}
	}()
	inEv := a.inEv
	outDone := a.outDone
	// A detach waits for the end of the replay (replayedC is set then), so
	// that an escape or EOF already in the input cannot cut off the
	// scrollback the user attached for.
	var replayedC <-chan struct{}
	detach := func() (done bool) {
		select {
		case <-a.replayed:
			return true
		default:
			replayedC = a.replayed
			return false
		}
	}
	result := func() error {
		for {
			select {
			case <-replayedC:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case sig := <-a.sigs:
				return fmt.Errorf("%w by signal %v", ErrInterrupted, sig)
			case <-a.winch:
				s.sendSize(a.sizeFd)
			case err := <-outDone:
				outDone = nil
				if err == nil {
					return ErrGuestStopped
				}
				return err
			case ev := <-inEv:
				inEv = nil
				switch ev {
				case inputEscape:
					if detach() {
						return nil
					}
				case inputFailed:
					return ErrConnectionLost
				case inputEOF:
					if !a.detachOnEOF {
						continue // keep showing output (see AttachOptions.DetachOnEOF)
					}
					if a.linger <= 0 {
						if detach() {
							return nil
						}
						continue
					}
					lingerT = time.NewTimer(a.linger)
					lingerC = lingerT.C
				}
			case <-lingerC:
				quiet := time.Since(time.Unix(0, a.lastOutput.Load()))
				if quiet >= a.linger {
					if detach() {
						return nil
					}
					continue
				}
				lingerT.Reset(a.linger - quiet)
			}
		}
	}()

	// Tear down: stop input, close the socket (ends copyOutput), wait for the
	// output goroutine so that nothing is written to out after we return.
	a.cancelIn()
	s.conn.Close()
	if outDone != nil {
		<-outDone
	}
	if errors.Is(result, ErrGuestStopped) {
		nl := "\n"
		if a.raw {
			nl = "\r\n"
		}
		msg := *a.stopMsg
		if msg == "" {
			msg = "guest stopped"
		}
		fmt.Fprintf(a.notices, "%s%s%s", nl, msg, nl)
	}
	return result
}
