package console

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"vmlite/internal/testutil"
)

const waitLong = 20 * time.Second

// fixture is a Mux on a real pty, served on a socket in a temp dir. The test
// plays the supervisor: it keeps the slave open, as the supervisor does.
type fixture struct {
	m      *Mux
	slave  *os.File
	sock   string
	log    string
	served chan error
}

func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	dir := t.TempDir()
	f := &fixture{slave: slave, sock: filepath.Join(dir, "console0.sock"), log: filepath.Join(dir, "g.console.log"), served: make(chan error, 1)}
	cfg.Master = master
	if cfg.LogPath == "" {
		cfg.LogPath = f.log
	}
	if cfg.Name == "" {
		cfg.Name = "g1"
	}
	f.m, err = NewMux(cfg)
	if err != nil {
		t.Fatalf("NewMux: %v", err)
	}
	l, err := Listen(f.sock)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	go func() { f.served <- f.m.Serve(l) }()
	t.Cleanup(func() {
		if err := f.m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-f.served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(waitLong):
			t.Errorf("Serve did not return after Close")
		}
		slave.Close()
	})
	return f
}

// rawSlave puts the slave in raw mode so that bytes pass unchanged (no
// echo, no \n -> \r\n), for tests that compare exact output.
func (f *fixture) rawSlave(t *testing.T) {
	t.Helper()
	if _, err := term.MakeRaw(int(f.slave.Fd())); err != nil {
		t.Fatalf("raw slave: %v", err)
	}
}

// startShell runs /bin/sh as the guest on the slave, as init would.
func (f *fixture) startShell(t *testing.T) {
	t.Helper()
	cmd := exec.Command("/bin/sh")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f.slave, f.slave, f.slave
	cmd.Env = []string{"PS1=$ ", "PATH=/usr/bin:/bin", "TERM=dumb"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start shell: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}

// syncBuf is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuf) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// pipeClient is an Attach running in pipe mode: the test types into in and
// reads out.
type pipeClient struct {
	in     *os.File // the test's end: write here to type
	out    *syncBuf
	stderr *syncBuf
	done   chan error
}

// attachPipe attaches a piped client to f. Cleanup closes the Mux first: a
// piped client stays attached after the end of its input.
func (f *fixture) attachPipe(t *testing.T, opts AttachOptions) *pipeClient {
	t.Helper()
	sock := f.sock
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &pipeClient{in: w, out: &syncBuf{}, stderr: &syncBuf{}, done: make(chan error, 1)}
	if opts.Name == "" {
		opts.Name, opts.Device = "g1", "console0"
	}
	opts.Stderr = c.stderr
	go func() {
		c.done <- Attach(context.Background(), sock, r, c.out, opts)
		r.Close()
	}()
	t.Cleanup(func() {
		w.Close()
		_ = f.m.Close()
		c.wait(t)
	})
	return c
}

// wait returns Attach's result, once.
func (c *pipeClient) wait(t *testing.T) error {
	t.Helper()
	select {
	case err, ok := <-c.done:
		if ok {
			close(c.done)
		}
		return err
	case <-time.After(waitLong):
		t.Fatalf("Attach did not return")
		return nil
	}
}

func (c *pipeClient) typeString(t *testing.T, s string) {
	t.Helper()
	if _, err := c.in.WriteString(s); err != nil {
		t.Fatalf("type %q: %v", s, err)
	}
}

func waitClients(t testing.TB, m *Mux, n int) {
	t.Helper()
	testutil.WaitFor(t, waitLong, "clients attached", func() bool { return m.Clients() == n })
}

func TestTwoClientsSeeTypedLine(t *testing.T) {
	f := newFixture(t, Config{})
	f.startShell(t)
	a := f.attachPipe(t, AttachOptions{})
	b := f.attachPipe(t, AttachOptions{})
	waitClients(t, f.m, 2)

	// The shell computes the marker, so seeing it proves the line reached the
	// guest and its output reached both clients (an echo alone would not).
	a.typeString(t, "echo marker-$((40+2))\n")
	for name, c := range map[string]*pipeClient{"typing client": a, "other client": b} {
		testutil.WaitFor(t, waitLong, name+" sees the shell's output", func() bool {
			return strings.Contains(c.out.String(), "marker-42")
		})
	}
	if got := a.stderr.String(); got != "Connected to guest g1 (console0). Escape character is ^]\n" {
		t.Fatalf("notice = %q", got)
	}
	if strings.Contains(a.out.String(), "Connected to guest") {
		t.Fatalf("notice leaked into the output of a piped client: %q", a.out.String())
	}
	// And the other way round.
	b.typeString(t, "echo second-$((6*7))\n")
	testutil.WaitFor(t, waitLong, "typing client sees the other's command", func() bool {
		return strings.Contains(a.out.String(), "second-42")
	})
}

func TestLateClientGetsReplayFirst(t *testing.T) {
	f := newFixture(t, Config{RingBytes: 1024})
	f.rawSlave(t)
	var boot bytes.Buffer
	for i := 0; boot.Len() < 3000; i++ {
		boot.WriteString("boot line ")
		boot.WriteString(strings.Repeat("x", i%40))
		boot.WriteString("\n")
	}
	if _, err := f.slave.Write(boot.Bytes()); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitLong, "boot output in the log", func() bool {
		b, _ := os.ReadFile(f.log)
		return len(b) == boot.Len()
	})

	c := f.attachPipe(t, AttachOptions{})
	want := boot.Bytes()[boot.Len()-1024:]
	testutil.WaitFor(t, waitLong, "replay", func() bool { return c.out.Len() >= len(want) })
	if _, err := f.slave.Write([]byte("live line\n")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitLong, "live line", func() bool { return c.out.Len() >= len(want)+len("live line\n") })
	if got := c.out.String(); got != string(want)+"live line\n" {
		t.Fatalf("client got %d bytes %q...; want the last 1024 boot bytes then the live line", len(got), trunc([]byte(got)))
	}
}

func TestStuckClientDoesNotStallOthers(t *testing.T) {
	const total = 16 << 20
	const queue = 4 << 20
	f := newFixture(t, Config{ClientQueueBytes: queue})
	f.rawSlave(t)

	// The stuck client: connected, never reads.
	stuck, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	fast := f.attachPipe(t, AttachOptions{})
	waitClients(t, f.m, 2)

	// The guest writes as fast as the pty takes it. The only brake is the
	// healthy client: a real terminal that falls more than a queue behind
	// loses output too, and this test is about the stuck client, so the
	// producer lets the fast client stay within half a queue (on a loaded
	// machine under -race it could otherwise fall behind). The stuck client
	// is never waited for: its queue fills and overflows.
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	start := time.Now()
	var paced time.Duration
	produced := make(chan error, 1)
	go func() {
		for n := 0; n < total; n += len(chunk) {
			if fast.out.Len() < n-queue/2 {
				t0 := time.Now()
				for fast.out.Len() < n-queue/2 {
					time.Sleep(time.Millisecond)
				}
				paced += time.Since(t0)
			}
			if _, err := f.slave.Write(chunk); err != nil {
				produced <- err
				return
			}
		}
		produced <- nil
	}()
	select {
	case err := <-produced:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("producer stalled: the stuck client blocks the guest")
	}
	elapsed := time.Since(start)
	testutil.WaitFor(t, waitLong, "fast client receives everything", func() bool { return fast.out.Len() >= total })
	t.Logf("guest wrote %d MiB in %v (%.0f MiB/s; %v of it waiting for the healthy client) while one client read nothing; the other received %d MiB",
		total>>20, elapsed, float64(total>>20)/elapsed.Seconds(), paced, fast.out.Len()>>20)
	if got := fast.out.String(); got != strings.Repeat(string(chunk), total/len(chunk)) {
		t.Fatalf("fast client got %d bytes, not the exact output", len(got))
	}

	// The stuck client is still attached and, once it reads, learns what it missed.
	if f.m.Clients() != 2 {
		t.Fatalf("clients = %d, want 2 (the laggard is kept, its output dropped)", f.m.Clients())
	}
	got := &syncBuf{}
	go func() { _, _ = io.Copy(got, stuck) }()
	testutil.WaitFor(t, waitLong, "stuck client drains its queue", func() bool { return got.Len() > queue/2 })
	if _, err := f.slave.Write([]byte("tail-marker")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitLong, "drop notice and new output", func() bool {
		s := got.String()
		return strings.Contains(s, "bytes of console output dropped") && strings.Contains(s, "tail-marker")
	})
	if got.Len() > queue+2<<20 {
		t.Fatalf("stuck client received %d bytes: more than its queue plus socket buffers", got.Len())
	}
}

func TestEscapeMidBufferDetachesOnlyThatClient(t *testing.T) {
	f := newFixture(t, Config{})
	f.rawSlave(t)
	a := f.attachPipe(t, AttachOptions{})
	b := f.attachPipe(t, AttachOptions{})
	waitClients(t, f.m, 2)

	a.typeString(t, "abc\x1ddef")
	if err := a.wait(t); err != nil {
		t.Fatalf("detach: Attach = %v, want nil", err)
	}
	// The guest got the bytes before the escape and nothing after it.
	var got []byte
	buf := make([]byte, 64)
	testutil.WaitFor(t, waitLong, "guest input", func() bool {
		if err := f.slave.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		n, _ := f.slave.Read(buf)
		got = append(got, buf[:n]...)
		return len(got) >= 3
	})
	waitClients(t, f.m, 1)
	b.typeString(t, "X")
	testutil.WaitFor(t, waitLong, "other client's input", func() bool {
		_ = f.slave.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, _ := f.slave.Read(buf)
		got = append(got, buf[:n]...)
		return bytes.Contains(got, []byte("X"))
	})
	if string(got) != "abcX" {
		t.Fatalf("guest input = %q, want %q", got, "abcX")
	}
	// The remaining client still sees output.
	if _, err := f.slave.Write([]byte("still-here")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitLong, "output after the other detached", func() bool {
		return strings.Contains(b.out.String(), "still-here")
	})
}

func TestResizeReachesGuest(t *testing.T) {
	f := newFixture(t, Config{})
	f.startShell(t)
	// The client's own terminal: another pty, whose size the client sends.
	cmaster, cslave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer cmaster.Close()
	defer cslave.Close()
	if err := pty.Setsize(cmaster, &pty.Winsize{Rows: 31, Cols: 101}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- Attach(context.Background(), f.sock, cslave, cslave, AttachOptions{Name: "g1", Device: "console0"})
	}()
	out := &syncBuf{}
	go func() { _, _ = io.Copy(out, cmaster) }()
	guestSize := func(rows, cols int) func() bool {
		return func() bool {
			r, c, err := pty.Getsize(f.slave)
			return err == nil && r == rows && c == cols
		}
	}
	testutil.WaitFor(t, waitLong, "initial size reaches the guest", guestSize(31, 101))

	if err := pty.Setsize(cmaster, &pty.Winsize{Rows: 42, Cols: 123}); err != nil {
		t.Fatal(err)
	}
	// The kernel signals only the terminal's foreground process group, which
	// this test process is not; deliver the SIGWINCH a real terminal would.
	if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitLong, "new size reaches the guest", guestSize(42, 123))

	// And the guest's own view: stty inside the shell.
	if _, err := cmaster.Write([]byte("stty size\n")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitLong, "stty size in the guest", func() bool { return strings.Contains(out.String(), "42 123") })

	if _, err := cmaster.Write([]byte{DefaultEscape}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Attach = %v", err)
		}
	case <-time.After(waitLong):
		t.Fatal("no detach")
	}
}

func TestGuestStoppedWhileAttached(t *testing.T) {
	f := newFixture(t, Config{Name: "web1"})
	f.rawSlave(t)
	c := f.attachPipe(t, AttachOptions{Name: "web1", Device: "console0"})
	waitClients(t, f.m, 1)
	if _, err := f.slave.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.wait(t); !errors.Is(err, ErrGuestStopped) {
		t.Fatalf("Attach = %v, want ErrGuestStopped", err)
	}
	if got := c.out.String(); got != "last words" {
		t.Fatalf("output = %q, want the guest's last output", got)
	}
	if got := c.stderr.String(); !strings.HasSuffix(got, "\nguest web1 stopped\n") {
		t.Fatalf("notices = %q, want the stopped message", got)
	}
	if _, err := os.Stat(f.sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket still there after Close: %v", err)
	}
	err := Attach(context.Background(), f.sock, strings.NewReader(""), io.Discard, AttachOptions{})
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Attach to a gone socket = %v, want a not-exist error", err)
	}
}

func TestCloseWithStuckClientIsBounded(t *testing.T) {
	f := newFixture(t, Config{ClientQueueBytes: 1 << 20})
	f.rawSlave(t)
	stuck, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	waitClients(t, f.m, 1)
	chunk := bytes.Repeat([]byte("y"), 64<<10)
	for range 32 {
		if _, err := f.slave.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > stopGrace+5*time.Second {
		t.Fatalf("Close took %v with a stuck client", d)
	}
}

func TestPipeModeEOF(t *testing.T) {
	tests := []struct {
		name       string
		opts       AttachOptions
		wantDetach bool
	}{
		{"default keeps the session", AttachOptions{}, false},
		{"detach on EOF", AttachOptions{DetachOnEOF: true}, true},
		{"detach on EOF after linger", AttachOptions{DetachOnEOF: true, Linger: 200 * time.Millisecond}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			f.startShell(t)
			c := f.attachPipe(t, tc.opts)
			waitClients(t, f.m, 1)
			c.typeString(t, "echo eof-$((1+1))\n")
			c.in.Close()
			if !tc.wantDetach {
				// The output of the last command arrives after EOF, and the
				// client is still attached.
				testutil.WaitFor(t, waitLong, "output after EOF", func() bool { return strings.Contains(c.out.String(), "eof-2") })
				if f.m.Clients() != 1 {
					t.Fatalf("client detached on EOF")
				}
				return
			}
			if err := c.wait(t); err != nil {
				t.Fatalf("Attach = %v", err)
			}
			if tc.opts.Linger > 0 && !strings.Contains(c.out.String(), "eof-2") {
				t.Fatalf("linger cut the output short: %q", c.out.String())
			}
		})
	}
}

func TestEIOIsWaitedOut(t *testing.T) {
	f := newFixture(t, Config{})
	name := f.slave.Name()
	// No slave open at all: reads of the master fail with EIO; the pump must
	// wait, and pick up output once a slave is back.
	f.slave.Close()
	c := f.attachPipe(t, AttachOptions{})
	waitClients(t, f.m, 1)
	// A pump that retried EIO at once would burn a CPU: measure a second.
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	c0, w0 := cpu(), time.Now()
	time.Sleep(time.Second) // a measurement window, not a wait for an event
	if used, wall := cpu()-c0, time.Since(w0); used > wall/3 {
		t.Fatalf("with no slave open the process used %v of CPU in %v: the pump spins on EIO", used, wall)
	}
	s2, err := os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.slave = s2 // closed by the fixture's cleanup
	if _, err := s2.Write([]byte("after EIO")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitLong, "output after the slave reopened", func() bool {
		return strings.Contains(c.out.String(), "after EIO")
	})
}

func TestLogCappedAndRotated(t *testing.T) {
	f := newFixture(t, Config{LogMaxBytes: 4096})
	f.rawSlave(t)
	var all bytes.Buffer
	for i := 0; i < 300; i++ {
		line := []byte(strings.Repeat(string(rune('a'+i%26)), 50) + "\n")
		all.Write(line)
		if _, err := f.slave.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	read := func() []byte {
		old, _ := os.ReadFile(RotatedPath(f.log))
		cur, _ := os.ReadFile(f.log)
		return append(old, cur...)
	}
	testutil.WaitFor(t, waitLong, "log holds the tail of the output", func() bool {
		return bytes.HasSuffix(read(), all.Bytes()[all.Len()-100:])
	})
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{f.log, RotatedPath(f.log)} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 4096 {
			t.Fatalf("%s is %d bytes, cap 4096", p, st.Size())
		}
	}
	if got := read(); !bytes.HasSuffix(all.Bytes(), got) || len(got) < 4096 {
		t.Fatalf("log (%d bytes) is not a suffix of the output of at least the cap", len(got))
	}
}
