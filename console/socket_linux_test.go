package console

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"vmlite/internal/testutil"
)

const peerHelperEnv = "VMLITE_CONSOLE_PEER_HELPER_SOCK"

// TestPeerCredHelper is not a test: run by TestPeerCredRejectsOtherUsers as
// another user, it connects to the socket and reports what it received.
func TestPeerCredHelper(t *testing.T) {
	sock := os.Getenv(peerHelperEnv)
	if sock == "" {
		t.Skip("helper process only")
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Printf("dial: %v\n", err)
		os.Exit(3)
	}
	// A rejected client sees EOF at once; the deadline only bounds a broken
	// check, which would keep the connection open.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(c)
	fmt.Printf("received %d bytes\n", len(b))
	os.Exit(0)
}

func TestListenMakesSocketOwnerOnly(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "c.sock")
	if err := os.WriteFile(sock, nil, 0o644); err != nil { // a stale file
		t.Fatal(err)
	}
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want a 0600 socket", st.Mode())
	}
	l.Close()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind after Close: %v", err)
	}
}

// TestPeerCredRejectsOtherUsers opens the socket's permissions wide and has
// an unprivileged process connect: the SO_PEERCRED check must drop it before
// it sees a byte, while the same-user client gets the console.
func TestPeerCredRejectsOtherUsers(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	m, err := NewMux(Config{Master: master, Name: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sock := filepath.Join(dir, "c.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = m.Serve(l) }()
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := slave.Write([]byte("secret boot output")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitLong, "output in the ring", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.ring.Len() > 0
	})

	// The helper is this test binary, copied where the other user can run it.
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "helper")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestPeerCredHelper$")
	cmd.Env = []string{peerHelperEnv + "=" + sock}
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper: %v: %s", err, out.String())
	}
	if !strings.Contains(out.String(), "received 0 bytes") {
		t.Fatalf("another user's client got data: %s", out.String())
	}

	// Root (our uid) is let in and gets the replay.
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f, err := NewDecoder(c).ReadFrame()
	if err != nil || f.Kind != FrameData || string(f.Payload) != "secret boot output" {
		t.Fatalf("root client: %v %q, %v", f.Kind, f.Payload, err)
	}
}
