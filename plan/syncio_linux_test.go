package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSyncMessageSizes: messages of any size cross the sync socket (big
// ones in a memfd), with their fds in order; a plan with a 64 MiB
// description used to fail with "sendmsg: message too long".
func TestSyncMessageSizes(t *testing.T) {
	for _, size := range []int{10, inlineMax - 100, inlineMax + 1, 1 << 20, 64 << 20} {
		parent, child, err := SocketPair()
		if err != nil {
			t.Fatal(err)
		}
		p := &Plan{Version: Version, Name: "g", DomainXML: "<domain><description>" + strings.Repeat("x", size) + "</description></domain>"}
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- Send(parent, Message{Type: MsgGo, Plan: raw, RootfsFD: 0}, int(pw.Fd())) }()
		m, fds, err := Recv(child)
		if serr := <-done; serr != nil {
			t.Fatalf("%d bytes: Send: %v", size, serr)
		}
		if err != nil {
			t.Fatalf("%d bytes: Recv: %v", size, err)
		}
		if !bytes.Equal(m.Plan, raw) || m.Type != MsgGo {
			t.Errorf("%d bytes: got a %s message with %d plan bytes, want %d", size, m.Type, len(m.Plan), len(raw))
		}
		// The one fd sent is the one received, at index 0: it writes into
		// the pipe the test holds.
		if len(fds) != 1 {
			t.Fatalf("%d bytes: %d fds received, want 1", size, len(fds))
		}
		if _, err := unix.Write(fds[0], []byte("ok")); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 2)
		if _, err := pr.Read(b); err != nil || string(b) != "ok" {
			t.Errorf("%d bytes: the fd received is not the pipe sent: %q %v", size, b, err)
		}
		for _, f := range fds {
			unix.Close(f)
		}
		for _, f := range []*os.File{parent, child, pr, pw} {
			f.Close()
		}
	}
}

// TestRecvPeekInstallsNoFDs: Recv peeks at a packet's size before reading
// it; the peek must not install the packet's fds (they would leak), and
// the peer's close still reads as io.EOF.
func TestRecvPeekInstallsNoFDs(t *testing.T) {
	parent, child, err := SocketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer child.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	before := openFDs(t)
	for i := 0; i < 3; i++ {
		if err := Send(parent, Message{Type: MsgRest, RootfsFD: -1}, int(pr.Fd()), int(pw.Fd())); err != nil {
			t.Fatal(err)
		}
		m, fds, err := Recv(child)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != MsgRest || len(fds) != 2 {
			t.Fatalf("got a %q message with %d fds, want %q with 2", m.Type, len(fds), MsgRest)
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d fds open after three messages of two fds each, %d before: the peek installed some", after, before)
	}
	parent.Close()
	if _, _, err := Recv(child); !errors.Is(err, io.EOF) {
		t.Errorf("Recv after the peer's close: %v, want io.EOF", err)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
