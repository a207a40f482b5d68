package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// openPty opens a new pty pair from /dev/ptmx (the host's /dev/pts/ptmx
// has mode 000 here; anchors.md).
func openPty() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlockpt: %w", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("ptsname: %w", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	_ = unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: 200})
	return m, s, nil
}

// ptyConn is a command running on a pty whose master we hold: what a
// user's terminal emulator sees.
type ptyConn struct {
	master *os.File
	cmd    *exec.Cmd
	exited chan struct{}

	mu   sync.Mutex
	cond *sync.Cond
	buf  []byte // unread output
	got  int64  // bytes read in total
	err  error
}

// startOnPty runs cmd with the slave as its controlling terminal.
func startOnPty(cmd *exec.Cmd) (*ptyConn, error) {
	m, s, err := openPty()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		m.Close()
		return nil, err
	}
	c := &ptyConn{master: m, cmd: cmd, exited: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	go c.pump()
	return c, nil
}

func (c *ptyConn) pump() {
	b := make([]byte, 64*1024)
	for {
		n, err := c.master.Read(b)
		c.mu.Lock()
		c.buf = append(c.buf, b[:n]...)
		c.got += int64(n)
		if err != nil {
			c.err = err
		}
		c.cond.Broadcast()
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (c *ptyConn) send(s string) error {
	_, err := c.master.Write([]byte(s))
	return err
}

// expect consumes output up to and including marker, within d.
func (c *ptyConn) expect(marker string, d time.Duration) error {
	deadline := time.Now().Add(d)
	timer := time.AfterFunc(d, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if i := bytes.Index(c.buf, []byte(marker)); i >= 0 {
			c.buf = c.buf[i+len(marker):]
			return nil
		}
		// Keep only a tail that may hold the start of the marker.
		if len(c.buf) > 4096 {
			c.buf = append(c.buf[:0], c.buf[len(c.buf)-len(marker):]...)
		}
		if c.err != nil {
			return fmt.Errorf("waiting for %q: %w", marker, c.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %q within %v", marker, d)
		}
		c.cond.Wait()
	}
}

// close ends the command (it should have exited by now) and the pty.
func (c *ptyConn) close() {
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	c.master.Close()
}
