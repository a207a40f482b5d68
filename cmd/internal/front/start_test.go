package front

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor/ctl"
)

// startXML writes a transient guest's domain XML (extra inside
// <devices>) with a root filesystem of its own and returns its path.
func startXML(t *testing.T, name, extra string) string {
	t.Helper()
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	doc := `<domain type='lxc'><name>` + name + `</name><memory>65536</memory>
  <os><type>exe</type><init>/sbin/init</init></os>
  <devices>
    <filesystem type='mount'><source dir='` + rootfs + `'/><target dir='/'/></filesystem>` + extra + `
  </devices>
</domain>`
	path := filepath.Join(dir, name+".xml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pools numbers the fake pools' sockets.
var pools int

// fakePool listens as a running shared supervisor of this binary would
// (CoreIsSelf: the test binary's id) under root, takes one guest and
// reports res; the plan it got comes back on the channel.
func fakePool(t *testing.T, root string, accept bool, res plan.StartResult) <-chan *plan.Plan {
	t.Helper()
	CoreIsSelf = true
	t.Cleanup(func() { CoreIsSelf = false })
	id, err := ctl.BinaryIDOf("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	l := state.NewLayout(root)
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	pools++
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: ctl.PoolPrefix(l.Run, id) + strconv.Itoa(pools) + ".sock", Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan *plan.Plan, 1)
	go func() {
		defer close(got)
		conn, err := ln.AcceptUnix()
		ln.Close() // one guest: a later start finds no socket here
		if err != nil {
			return
		}
		defer conn.Close()
		oob := make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(make([]byte, 1), oob)
		if err != nil {
			return
		}
		fds, err := plan.ParseRights(oob[:oobn])
		if err != nil || len(fds) != 1 {
			return
		}
		defer unix.Close(fds[0])
		line, err := bufio.NewReader(conn).ReadBytes('\n')
		if err != nil {
			return
		}
		a, _ := json.Marshal(ctl.PoolAnswer{Accepted: accept})
		_, _ = conn.Write(append(a, '\n'))
		if !accept {
			return
		}
		r, _ := json.Marshal(res)
		_, _ = conn.Write(append(r, '\n'))
		p, _ := plan.Unmarshal(line)
		got <- p
	}()
	return got
}

// TestRunStart: a start from a file into a running pool is the front's
// whole: the plan and the lock go to the pool, the answer is the full
// CLI's line.
func TestRunStart(t *testing.T) {
	root := t.TempDir()
	got := fakePool(t, root, true, plan.StartResult{OK: true, InitPID: 4242})
	xml := startXML(t, "fs1", "")
	var out, errb bytes.Buffer
	code, handled := Run([]string{"--root", root, "start", xml}, nil, &out, &errb)
	if !handled || code != 0 {
		t.Fatalf("Run = %d, %v; stderr %q", code, handled, errb.String())
	}
	if out.String() != "Guest fs1 started (init pid 4242)\n" || errb.Len() > 0 {
		t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
	}
	p := <-got
	if p == nil || p.Name != "fs1" || !p.Transient || p.Source != xml || p.UUID == "" {
		t.Fatalf("the pool got plan %+v", p)
	}

	// A defined guest by name: its stored definition, not transient.
	got = fakePool(t, root, true, plan.StartResult{OK: true, InitPID: 4343})
	l := state.NewLayout(root)
	def, err := os.ReadFile(startXML(t, "fs3", ""))
	if err != nil {
		t.Fatal(err)
	}
	def = []byte(strings.Replace(string(def), "<memory>", "<uuid>6f0e2c4a-0000-4000-8000-000000000003</uuid><memory>", 1))
	if err := os.WriteFile(l.DomainFile("fs3"), def, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code, handled := Run([]string{"--root", root, "start", "fs3"}, nil, &out, &errb); !handled || code != 0 {
		t.Fatalf("Run start fs3 = %d, %v; stderr %q", code, handled, errb.String())
	}
	if out.String() != "Guest fs3 started (init pid 4343)\n" {
		t.Errorf("stdout %q", out.String())
	}
	p = <-got
	if p == nil || p.Name != "fs3" || p.Transient || p.Source != l.DomainFile("fs3") || p.UUID != "6f0e2c4a-0000-4000-8000-000000000003" {
		t.Fatalf("the pool got plan %+v", p)
	}
}

// TestRunStartFailure: a start the pool took and failed is reported as
// the full CLI reports it (the step, the file, exit status 2 for the
// user's), with no second try.
func TestRunStartFailure(t *testing.T) {
	root := t.TempDir()
	f := plan.Fail("rootfs", errors.New("no init there"))
	f.XMLPath, f.User = "/domain/devices/filesystem", true
	fakePool(t, root, true, plan.StartResult{Failure: f})
	xml := startXML(t, "fs2", "")
	var out, errb bytes.Buffer
	code, handled := Run([]string{"--root", root, "create", xml}, nil, &out, &errb)
	if !handled || code != 2 {
		t.Fatalf("Run = %d, %v; stderr %q", code, handled, errb.String())
	}
	want := "vmlite: " + f.Reported(xml, state.NewLayout(root).SupervisorLog("fs2")).Error() + "\n"
	if errb.String() != want || out.Len() > 0 {
		t.Errorf("stderr %q, want %q; stdout %q", errb.String(), want, out.String())
	}
}

// TestRunStartLeavesTheRest: every start that is not a file into a pool
// with room goes to the full CLI with nothing printed and nothing left:
// no runtime directory, the lock free.
func TestRunStartLeavesTheRest(t *testing.T) {
	CoreIsSelf = true // the pools looked for are this binary's: none runs
	t.Cleanup(func() { CoreIsSelf = false })
	root := t.TempDir()
	l := state.NewLayout(root)
	plain := startXML(t, "g", "")
	bad := filepath.Join(t.TempDir(), "bad.xml")
	if err := os.WriteFile(bad, []byte("<domain type='lxc'><name>g</name><nope/></domain>"), 0o644); err != nil {
		t.Fatal(err)
	}
	network := startXML(t, "g", "<interface type='network'><source network='default'/></interface>")
	for _, c := range []struct {
		what string
		args []string
		env  map[string]string
	}{
		{"no pool runs", []string{"start", plain}, nil},
		{"a guest name", []string{"start", "g"}, nil},
		{"--console", []string{"start", plain, "--console"}, nil},
		{"no such file", []string{"start", "/nonexistent/g.xml"}, nil},
		{"invalid XML", []string{"start", bad}, nil},
		{"a managed network", []string{"start", network}, nil},
		{"dedicated supervisors", []string{"start", plain}, map[string]string{"VMLITE_GUESTS_PER_SUPERVISOR": "1"}},
		{"a bad VMLITE_INIT_STAGES", []string{"start", plain}, map[string]string{"VMLITE_INIT_STAGES": "many"}},
	} {
		t.Run(c.what, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			if code, handled := Run(append([]string{"--root", root}, c.args...), nil, &out, &errb); handled || out.Len() > 0 || errb.Len() > 0 {
				t.Errorf("Run(%q) = %d, %v, stdout %q, stderr %q: want it left to the full CLI", c.args, code, handled, out.String(), errb.String())
			}
			if _, err := os.Stat(l.RunDir("g")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("runtime directory left: %v", err)
			}
		})
	}
	// A pool that turns the guest down (full) is no start either.
	fakePool(t, root, false, plan.StartResult{})
	var out, errb bytes.Buffer
	if _, handled := Run([]string{"--root", root, "start", plain}, nil, &out, &errb); handled || out.Len() > 0 || errb.Len() > 0 {
		t.Errorf("a full pool: handled %v, stdout %q, stderr %q", handled, out.String(), errb.String())
	}
	if held, _ := state.Held(l.LockFile("g")); held {
		t.Error("the guest's lock is still held")
	}
	if _, err := os.Stat(l.RunDir("g")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("runtime directory left after a full pool: %v", err)
	}
	if strings.Contains(errb.String(), "g") {
		t.Errorf("stderr %q", errb.String())
	}
}
