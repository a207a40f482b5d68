package procstat

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

// exitedChild is the process TestExited kills: it holds an flock on the
// file named by the variable and keeps threads busy in system calls, as a
// supervisor's threads are.
const exitedChild = "PROCSTAT_TEST_EXITED_LOCK"

func TestMain(m *testing.M) {
	if f := os.Getenv(exitedChild); f != "" {
		fd, err := syscall.Open(f, syscall.O_RDWR, 0)
		if err != nil || syscall.Flock(fd, syscall.LOCK_EX) != nil {
			os.Exit(1)
		}
		for i := 0; i < 16; i++ {
			go func() {
				runtime.LockOSThread()
				for {
					_ = syscall.Nanosleep(&syscall.Timespec{Nsec: 1000}, nil)
				}
			}()
		}
		os.Stdout.WriteString("locked\n")
		select {}
	}
	os.Exit(m.Run())
}

// TestExited: a killed process counts as exited only once its files are
// released (its flock is free again), though its leader is a zombie
// before that; a running process has not exited, a pid that is gone has.
func TestExited(t *testing.T) {
	if Exited(os.Getpid()) {
		t.Error("this process counts as exited")
	}
	lock := filepath.Join(t.TempDir(), "lock")
	if err := os.WriteFile(lock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 20; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=NONE")
		cmd.Env = append(os.Environ(), exitedChild+"="+lock)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = w
		err = cmd.Start()
		w.Close()
		if err != nil {
			r.Close()
			t.Fatal(err)
		}
		b := make([]byte, 7)
		_, err = r.Read(b)
		r.Close()
		if err != nil || string(b) != "locked\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("child: %q, %v", b, err)
		}
		pid := cmd.Process.Pid
		_ = cmd.Process.Kill()
		// Looked at without a pause: the window between the leader's
		// zombie state and the last thread's exit is short.
		deadline := time.Now().Add(10 * time.Second)
		for !Exited(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the killed child has not exited after 10s", round)
			}
		}
		f, err := os.OpenFile(lock, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			t.Errorf("round %d: the child counts as exited, its lock is still held: %v", round, err)
		}
		f.Close()
		_ = cmd.Wait()
		if !Exited(pid) {
			t.Errorf("round %d: a reaped child does not count as exited", round)
		}
	}
}

// TestEnded: a process has ended once gone or a zombie alone, not while
// its leader is a zombie and another thread runs; a pid read with another
// start time is another process.
func TestEnded(t *testing.T) {
	self, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if Ended(os.Getpid(), self.StartTime) {
		t.Error("this process counts as ended")
	}
	if !Ended(os.Getpid(), self.StartTime+1) {
		t.Error("a pid with another start time counts as the same process")
	}
	leader := testutil.ZombieLeader(t)
	st, err := Read(leader)
	if err != nil || !st.Zombie() {
		t.Fatalf("zombie leader %d: %+v, %v", leader, st, err)
	}
	if Ended(leader, st.StartTime) {
		t.Errorf("process %d counts as ended with its leader a zombie and a thread running", leader)
	}
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	testutil.WaitFor(t, 30*time.Second, "true a zombie", func() bool { st, err := Read(pid); return err == nil && st.Zombie() })
	st, _ = Read(pid)
	if !Ended(pid, st.StartTime) {
		t.Errorf("zombie %d (no thread left) counts as running", pid)
	}
}
