package console

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// BenchmarkMuxThroughput pushes guest output through the whole console path
// the way `vmlite console` carries it: a writer on the guest's pty slave
// (cooked, as a guest's shell leaves it), the Mux (ring, capped log file,
// client queue, unix socket) and Attach, whose output is a second pty (the
// user's terminal, raw as Attach leaves it) drained by a reader. Each
// iteration is 1 MiB of 64-byte lines (`yes` output) followed by a marker
// the reader waits for. Rerun with
//
//	go test ./console -run '^$' -bench MuxThroughput -benchtime 20x -cpuprofile /tmp/cpu.out
//
// Sub-benchmarks: one client, and two clients (the second on a pipe).
func BenchmarkMuxThroughput(b *testing.B) {
	for _, clients := range []int{1, 2} {
		b.Run(map[int]string{1: "1client", 2: "2clients"}[clients], func(b *testing.B) {
			benchThroughput(b, clients)
		})
	}
}

const benchChunk = 1 << 20

func benchThroughput(b *testing.B, clients int) {
	f := newFixture(b, Config{})
	term := newTermSink(b)
	attachBench(b, f, term.slave)
	for i := 1; i < clients; i++ {
		attachBench(b, f, &countWriter{})
	}
	waitClients(b, f.m, clients)

	line := strings.Repeat("x", 63) + "\n"
	payload := []byte(strings.Repeat(line, benchChunk/len(line)))
	// Settle: the notice and the (empty) replay are through.
	term.expect(b, f, "READY0")
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.slave.Write(payload); err != nil {
			b.Fatal(err)
		}
		term.expect(b, f, "MARK")
	}
	b.StopTimer()
}

// attachBench runs Attach with out until the benchmark ends.
func attachBench(b *testing.B, f *fixture, out interface{ Write([]byte) (int, error) }) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Attach(ctx, f.sock, nil, out, AttachOptions{Name: "g1", Device: "console0"}) }()
	b.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrGuestStopped) {
				b.Errorf("Attach: %v", err)
			}
		case <-time.After(waitLong):
			b.Errorf("Attach did not return")
		}
	})
}

// countWriter discards what it is given.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// termSink is the user's terminal: a pty whose slave Attach writes to and
// whose master a goroutine drains, remembering the tail it last saw.
type termSink struct {
	master, slave *os.File
	mu            sync.Mutex
	cond          *sync.Cond
	tail          []byte
	err           error
}

func newTermSink(b *testing.B) *termSink {
	master, slave, err := pty.Open()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		b.Fatal(err)
	}
	s := &termSink{master: master, slave: slave}
	s.cond = sync.NewCond(&s.mu)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.tail = append(s.tail, buf[:n]...)
			if len(s.tail) > 64 {
				s.tail = append(s.tail[:0], s.tail[len(s.tail)-64:]...)
			}
			s.err = err
			s.cond.Broadcast()
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	b.Cleanup(func() {
		slave.Close()
		master.Close()
	})
	return s
}

// expect prints marker on the guest's console and waits until the
// terminal shows it.
func (s *termSink) expect(b *testing.B, f *fixture, marker string) {
	if _, err := f.slave.WriteString(marker + "\n"); err != nil {
		b.Fatal(err)
	}
	deadline := time.AfterFunc(waitLong, func() {
		s.mu.Lock()
		s.err = errors.New("timed out")
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer deadline.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !bytes.Contains(s.tail, []byte(marker)) {
		if s.err != nil {
			b.Fatalf("waiting for %q: %v", marker, s.err)
		}
		s.cond.Wait()
	}
	s.tail = s.tail[:0]
}
