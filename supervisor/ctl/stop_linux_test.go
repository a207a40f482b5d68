package ctl

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmlite/state"
)

// serveOnce answers one request on a new socket with answer (nil: reads
// the request and never answers) and hands the request line to got.
func serveOnce(t *testing.T, answer *Response) (socket string, got <-chan string) {
	t.Helper()
	socket = filepath.Join(t.TempDir(), "control.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 1)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return
		}
		ch <- line
		if answer == nil {
			<-release
			return
		}
		b, _ := json.Marshal(answer)
		_, _ = conn.Write(append(b, '\n'))
	}()
	return socket, ch
}

func TestStop(t *testing.T) {
	socket, got := serveOnce(t, &Response{OK: true, Forced: true, State: state.State{Name: "g", SharedSupervisor: true, SupervisorPID: 1}})
	a, err := Stop(socket, Request{Op: OpStop, Timeout: 3 * time.Second}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !a.OK || !a.Forced || !a.State.SharedSupervisor || a.State.SupervisorPID != 1 {
		t.Errorf("answer %+v", a)
	}
	if line := <-got; line != `{"op":"stop","timeout":3000000000}`+"\n" {
		t.Errorf("request line %q", line)
	}
}

func TestStopRefused(t *testing.T) {
	socket, _ := serveOnce(t, &Response{Error: "permission denied"})
	a, err := Stop(socket, Request{Op: OpDestroy}, time.Minute)
	if err == nil || a == nil || a.OK || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("Stop = %+v, %v; want the refusal with its answer", a, err)
	}
}

func TestStopNoSupervisor(t *testing.T) {
	_, err := Stop(filepath.Join(t.TempDir(), "none.sock"), Request{Op: OpStop}, time.Minute)
	if !errors.Is(err, ErrNoSupervisor) {
		t.Errorf("Stop without a listener = %v, want ErrNoSupervisor", err)
	}
	long := "/" + strings.Repeat("x", 200) + ".sock"
	if _, err := Stop(long, Request{Op: OpStop}, time.Minute); !errors.Is(err, ErrNoSupervisor) || !strings.Contains(err.Error(), "too long") {
		t.Errorf("Stop on a path over sun_path's size = %v, want ErrNoSupervisor (name too long)", err)
	}
	if _, err := Stop("unused", Request{Op: OpStatus}, time.Minute); err == nil {
		t.Error("Stop accepted a status request")
	}
}

// TestStopBounded: a supervisor that never answers makes Stop fail once
// wait has passed.
func TestStopBounded(t *testing.T) {
	socket, _ := serveOnce(t, nil)
	start := time.Now()
	_, err := Stop(socket, Request{Op: OpStop}, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("Stop = %v, want a timeout", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("Stop returned after %v, before its bound", d)
	}
}
