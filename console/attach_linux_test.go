package console

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// clientTerm is a pty standing in for the user's terminal: the client runs on
// slave, the test plays the user on master.
type clientTerm struct {
	master, slave *os.File
	fd            int
	out           *syncBuf // everything the client printed
}

func newClientTerm(t *testing.T) *clientTerm {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	fd, ok := fileFd(slave)
	if !ok {
		t.Fatal("no fd for the terminal")
	}
	ct := &clientTerm{master: master, slave: slave, fd: fd, out: &syncBuf{}}
	go func() { _, _ = io.Copy(ct.out, master) }()
	t.Cleanup(func() {
		master.Close()
		slave.Close()
	})
	return ct
}

func (ct *clientTerm) termios(t *testing.T) *unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(ct.fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio
}

func isRaw(tio *unix.Termios) bool {
	return tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) == 0 && tio.Oflag&unix.OPOST == 0
}

func sameTermios(a, b *unix.Termios) bool {
	return a.Iflag == b.Iflag && a.Oflag == b.Oflag && a.Cflag == b.Cflag && a.Lflag == b.Lflag && a.Cc == b.Cc
}

func TestTermStateHelper(t *testing.T) {
	ct := newClientTerm(t)
	before := ct.termios(t)
	if isRaw(before) {
		t.Fatal("a fresh pty is already raw")
	}
	st, err := makeRaw(ct.fd)
	if err != nil {
		t.Fatal(err)
	}
	if !isRaw(ct.termios(t)) {
		t.Fatal("makeRaw left the terminal cooked")
	}
	if err := st.restore(); err != nil {
		t.Fatal(err)
	}
	if after := ct.termios(t); !sameTermios(before, after) {
		t.Fatalf("restore: termios %+v, want %+v", after, before)
	}
	// A second restore is a no-op, even after the settings changed again.
	if _, err := makeRaw(ct.fd); err != nil {
		t.Fatal(err)
	}
	if err := st.restore(); err != nil {
		t.Fatal(err)
	}
	if !isRaw(ct.termios(t)) {
		t.Fatal("second restore acted again")
	}
}

// TestAttachRestoresTerminal ends an attached terminal client in every way it
// can end and checks that the terminal is back to its settings each time.
func TestAttachRestoresTerminal(t *testing.T) {
	tests := []struct {
		name    string
		end     func(t *testing.T, f *fixture, ct *clientTerm, cancel context.CancelFunc)
		wantErr error
		wantOut string
	}{
		{"escape key", func(t *testing.T, _ *fixture, ct *clientTerm, _ context.CancelFunc) {
			if _, err := ct.master.Write([]byte("ls\x1d")); err != nil {
				t.Fatal(err)
			}
		}, nil, ""},
		{"guest stopped", func(t *testing.T, f *fixture, _ *clientTerm, _ context.CancelFunc) {
			if err := f.m.Close(); err != nil {
				t.Fatal(err)
			}
		}, ErrGuestStopped, "guest g1 stopped"},
		{"SIGTERM", func(t *testing.T, _ *fixture, _ *clientTerm, _ context.CancelFunc) {
			if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}, ErrInterrupted, ""},
		{"SIGHUP", func(t *testing.T, _ *fixture, _ *clientTerm, _ context.CancelFunc) {
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
		}, ErrInterrupted, ""},
		{"context canceled", func(_ *testing.T, _ *fixture, _ *clientTerm, cancel context.CancelFunc) {
			cancel()
		}, context.Canceled, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			ct := newClientTerm(t)
			before := ct.termios(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- Attach(ctx, f.sock, ct.slave, ct.slave, AttachOptions{Name: "g1", Device: "console0", Stderr: io.Discard})
			}()
			// Raw mode is set after the signal handlers are installed, so
			// from here a signal reaches Attach, not the default action.
			testutil.WaitFor(t, waitLong, "raw mode", func() bool { return isRaw(ct.termios(t)) })
			waitClients(t, f.m, 1)
			tc.end(t, f, ct, cancel)
			var err error
			select {
			case err = <-done:
			case <-time.After(waitLong):
				t.Fatal("Attach did not return")
			}
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Attach = %v, want %v", err, tc.wantErr)
			}
			if after := ct.termios(t); !sameTermios(before, after) {
				t.Fatalf("terminal not restored: %+v, want %+v", after, before)
			}
			testutil.WaitFor(t, waitLong, "notice on the terminal", func() bool {
				return strings.Contains(ct.out.String(), "Connected to guest g1 (console0). Escape character is ^]\r\n") &&
					strings.Contains(ct.out.String(), tc.wantOut)
			})
		})
	}
}

func TestAttachSocketGone(t *testing.T) {
	err := Attach(context.Background(), t.TempDir()+"/console0.sock", strings.NewReader(""), io.Discard, AttachOptions{})
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Attach = %v, want a not-exist error", err)
	}
}

func TestNoEscapeIsBinarySafe(t *testing.T) {
	f := newFixture(t, Config{})
	f.rawSlave(t)
	c := f.attachPipe(t, AttachOptions{NoEscape: true})
	waitClients(t, f.m, 1)
	c.typeString(t, "a\x1db")
	var got []byte
	buf := make([]byte, 16)
	testutil.WaitFor(t, waitLong, "guest input", func() bool {
		_ = f.slave.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, _ := f.slave.Read(buf)
		got = append(got, buf[:n]...)
		return len(got) >= 3
	})
	if string(got) != "a\x1db" {
		t.Fatalf("guest got %q", got)
	}
	if f.m.Clients() != 1 {
		t.Fatal("client detached with the escape disabled")
	}
}
