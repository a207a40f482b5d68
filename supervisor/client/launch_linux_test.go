package client

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/plan"
	"vmlite/supervisor"
	"vmlite/supervisor/ctl"
)

// fakePool serves one launch request on sock as a shared supervisor does:
// it takes the lock fd and the plan line, answers that it took the guest,
// then sends the start report only once released is closed (or after
// wait, reporting a failure): a report that came before the release
// means the caller waited for the boot before running its taken callback.
func fakePool(t *testing.T, sock string, released <-chan struct{}, wait time.Duration) <-chan string {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		defer l.Close()
		conn, err := l.AcceptUnix()
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer conn.Close()
		b := make([]byte, 1)
		oob := make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(b, oob)
		if err != nil {
			got <- "read lock: " + err.Error()
			return
		}
		fds, err := plan.ParseRights(oob[:oobn])
		if err != nil || len(fds) != 1 {
			got <- "no lock fd"
			return
		}
		unix.Close(fds[0])
		line, err := bufio.NewReader(conn).ReadBytes('\n')
		if err != nil {
			got <- "read plan: " + err.Error()
			return
		}
		a, _ := json.Marshal(supervisor.PoolAnswer{Accepted: true})
		_, _ = conn.Write(append(a, '\n'))
		res := plan.StartResult{OK: true, InitPID: 4242}
		select {
		case <-released:
		case <-time.After(wait):
			res = plan.Failed(errors.New("reported before the caller's taken callback"))
		}
		r, _ := json.Marshal(res)
		_, _ = conn.Write(append(r, '\n'))
		got <- string(line)
	}()
	return got
}

// TestOfferTakenBeforeReport: the callback that releases the host-wide
// pool lock runs when the pool has taken the guest, before the guest's
// boot is reported, so starts queued on that lock do not wait for each
// other's boots.
func TestOfferTakenBeforeReport(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "sv-test-")
	released := make(chan struct{})
	got := fakePool(t, prefix+"1.sock", released, 20*time.Second)
	lock, err := os.Create(filepath.Join(dir, "lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	calls := 0
	res, handed, err := ctl.OfferToPools(prefix, []byte(`{"name":"g"}`), lock, func() { calls++; close(released) })
	if err != nil || !handed {
		t.Fatalf("offerToPools: handed %v, %v", handed, err)
	}
	if !res.OK || res.InitPID != 4242 || calls != 1 {
		t.Fatalf("result %+v after %d taken calls; want ok, init 4242, one call before the report", res, calls)
	}
	if line := <-got; line != `{"name":"g"}`+"\n" {
		t.Fatalf("the pool read %q", line)
	}
}

// TestOfferNoPool: with no pool listening nothing is handed and the
// callback never runs.
func TestOfferNoPool(t *testing.T) {
	dir := t.TempDir()
	lock, err := os.Create(filepath.Join(dir, "lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	// A dead pool's socket: refused, and removed.
	dead := filepath.Join(dir, "sv-test-dead.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: dead, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	_, handed, err := ctl.OfferToPools(filepath.Join(dir, "sv-test-"), []byte("{}"), lock, func() { t.Error("taken without a pool") })
	if err != nil || handed {
		t.Fatalf("handed %v, %v; want neither", handed, err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead pool's socket is still there: %v", err)
	}
}
