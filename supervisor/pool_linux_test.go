package supervisor

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/plan"
)

// pair returns both ends of a unix stream connection through a listener
// in a temporary directory.
func pair(t *testing.T) (client, server *net.UnixConn) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "s.sock"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err = net.DialUnix("unix", nil, l.Addr().(*net.UnixAddr))
	if err != nil {
		t.Fatal(err)
	}
	server, err = l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func tempLock(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "lock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func sameFile(t *testing.T, a, b *os.File) bool {
	t.Helper()
	var sa, sb unix.Stat_t
	if err := unix.Fstat(int(a.Fd()), &sa); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fstat(int(b.Fd()), &sb); err != nil {
		t.Fatal(err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

func TestLaunchRequest(t *testing.T) {
	p := &plan.Plan{Version: plan.Version, Name: "g1", UUID: "u"}
	good, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		send    func(c *net.UnixConn, lock *os.File) error
		wantErr bool
	}{
		{"plan and lock", func(c *net.UnixConn, lock *os.File) error { return SendLaunch(c, good, lock) }, false},
		{"no lock", func(c *net.UnixConn, _ *os.File) error {
			_, err := c.Write(append([]byte{'L'}, append(good, '\n')...))
			return err
		}, true},
		{"bad plan", func(c *net.UnixConn, lock *os.File) error { return SendLaunch(c, []byte("{nope"), lock) }, true},
		{"no plan", func(c *net.UnixConn, lock *os.File) error {
			_, _, err := c.WriteMsgUnix([]byte{'L'}, unix.UnixRights(int(lock.Fd())), nil)
			c.CloseWrite()
			return err
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := pair(t)
			lock := tempLock(t)
			if err := tt.send(client, lock); err != nil {
				t.Fatal(err)
			}
			got, _, gotLock, err := recvLaunch(server)
			if tt.wantErr {
				if err == nil {
					gotLock.Close()
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer gotLock.Close()
			if got.Name != "g1" || got.UUID != "u" {
				t.Errorf("plan = %+v", got)
			}
			if !sameFile(t, gotLock, lock) {
				t.Error("the received lock is another file")
			}
		})
	}
}

// readAnswer reads the pool's first answer line.
func readAnswer(t *testing.T, c *net.UnixConn) PoolAnswer {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	var a PoolAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestPoolTurnsDown: a full or ending pool answers "not accepted" and
// keeps nothing of the request (the CLI then starts a new pool).
func TestPoolTurnsDown(t *testing.T) {
	for _, tt := range []struct {
		name   string
		guests int
		ending bool
	}{{"full", 2, false}, {"ending", 0, true}} {
		t.Run(tt.name, func(t *testing.T) {
			pl := newPool(poolOptions{max: 2})
			pl.guests, pl.ending = tt.guests, tt.ending
			client, server := pair(t)
			b, _ := (&plan.Plan{Version: plan.Version, Name: "g"}).Marshal()
			if err := SendLaunch(client, b, tempLock(t)); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { pl.handle(server); close(done) }()
			if a := readAnswer(t, client); a.Accepted || a.Error == "" {
				t.Errorf("answer %+v, want a refusal with a reason", a)
			}
			<-done
			if pl.guests != tt.guests {
				t.Errorf("guests = %d after a refusal, want %d", pl.guests, tt.guests)
			}
		})
	}
}

// TestPoolEndsWithLastGuest: the pool stops listening, removes its socket
// and ends once its last guest is gone, and turns requests down from then on.
func TestPoolEndsWithLastGuest(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "pool.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	pl := newPool(poolOptions{socket: sock, max: 4})
	pl.serve(l)
	pl.adopt()
	pl.adopt()
	pl.guestGone()
	select {
	case <-pl.exit:
		t.Fatal("the pool ended with a guest left")
	default:
	}
	pl.guestGone()
	select {
	case <-pl.exit:
	case <-time.After(10 * time.Second):
		t.Fatal("the pool did not end after its last guest")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left after the pool ended: %v", err)
	}
	if _, err := net.Dial("unix", sock); err == nil {
		t.Error("the ended pool still accepts connections")
	}
}

// TestAwaitExit: awaitExit returns once the child has exited, leaving it
// for Wait to reap with its status.
func TestAwaitExit(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		code int
	}{{"exit 0", []string{"-c", "exit 0"}, 0}, {"exit 5 after a while", []string{"-c", "sleep 0.2; exit 5"}, 5}} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", tt.args...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { awaitExit(cmd.Process.Pid); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("awaitExit did not return after the child exited")
			}
			var info unix.Siginfo
			if err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil); err != nil || info.Signo != int32(unix.SIGCHLD) {
				t.Errorf("awaitExit returned before the child exited (waitid: %v, signo %d)", err, info.Signo)
			}
			_ = cmd.Wait()
			if got := cmd.ProcessState.ExitCode(); got != tt.code {
				t.Errorf("exit code %d, want %d", got, tt.code)
			}
		})
	}
}
