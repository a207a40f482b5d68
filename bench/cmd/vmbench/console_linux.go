package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	consoleRuns = 5
	echoKeys    = 100
)

// consoleAll measures the console: a large output and keystroke echo
// through each peer's console client, against the same busybox shell on
// a raw pty (chroot, no container), and `vmlite logs` on the result.
func (b *bench) consoleAll() {
	base := func(p peer) string { return filepath.Join(b.work, p.name()+"-base") }
	// The floor: the guest's shell on a pty of our own.
	b.res.Console = append(b.res.Console, b.consolePath("raw pty (chroot, no container)",
		"busybox sh on a pty the harness holds: the kernel's pty alone", nil, func() (*ptyConn, func(), error) {
			cmd := exec.Command("chroot", base(b.vm), "/bin/sh", "-i")
			cmd.Env = []string{"PATH=/bin:/sbin:/usr/bin", "HOME=/", "TERM=vt100"}
			c, err := startOnPty(cmd)
			return c, func() { _ = c.send("exit\n") }, err
		}))
	for _, p := range b.peers {
		var client func(g *guest) (*exec.Cmd, string)
		var desc string
		switch pp := p.(type) {
		case *vmlitePeer: // vmlite, and vmlite-base with -compare
			desc = "guest pty → supervisor → unix socket → `vmlite console` → our pty"
			client = func(g *guest) (*exec.Cmd, string) { return pp.cmd("console", g.name), "\x1d" }
		case *lxcPeer:
			desc = "guest pty → lxc monitor → `lxc-console -t 0` → our pty"
			client = func(g *guest) (*exec.Cmd, string) {
				return pp.lxc("lxc-console", g.name, "-t", "0"), "\x01q"
			}
		case *libvirtPeer:
			desc = "guest pty → libvirt_lxc → libvirtd → `virsh console` → our pty"
			client = func(g *guest) (*exec.Cmd, string) {
				return exec.Command("virsh", "-c", libvirtURI, "console", g.name), "\x1d"
			}
		default:
			continue // nspawn's console is its own terminal: no client to attach
		}
		g, err := b.guestFor(p, "vmb-"+shortName(p)+"-c", base(p))
		if err != nil {
			b.note("console %s: %v", p.name(), err)
			continue
		}
		if _, _, _, err := bootGuest(p, g); err != nil {
			p.cleanupGuest(g)
			b.res.Console = append(b.res.Console, ConsoleResult{Path: p.name() + " console", Error: err.Error()})
			continue
		}
		relay := func() int { // the supervisor or monitor that relays the console
			sup, _, err := p.procs(g)
			if err != nil {
				return 0
			}
			return sup
		}
		b.res.Console = append(b.res.Console, b.consolePath(p.name()+" console", desc, relay, func() (*ptyConn, func(), error) {
			cmd, esc := client(g)
			c, err := startOnPty(cmd)
			return c, func() { _ = c.send(esc) }, err
		}))
		if vp, ok := p.(*vmlitePeer); ok {
			b.res.Console = append(b.res.Console, vmliteLogs(vp, g))
		}
		var s cycleSample
		if err := stopGuest(p, g, true, &s); err != nil {
			b.note("console %s: %v", p.name(), err)
			p.cleanupGuest(g)
		}
	}
}

// consolePath opens a console consoleRuns times for a large output and
// once for echoKeys keystrokes. relay, when not nil, names the process on
// the guest's side of the console (supervisor, monitor): its CPU time and
// the client's, per MB, is the relay's cost.
func (b *bench) consolePath(name, desc string, relay func() int, open func() (*ptyConn, func(), error)) ConsoleResult {
	consoleBytes := b.o.consoleBytes
	r := ConsoleResult{Path: name, Bytes: consoleBytes, Description: desc}
	logf("console: %s", name)
	c, detach, err := open()
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer c.close()
	defer detach()
	ready := func(tag string) error {
		// "RE""ADY" on the command line, READY in the output: the echo of
		// the command does not match. Sent again every 2 s: a client that
		// puts the terminal into raw mode with TCSAFLUSH (lxc-console)
		// drops what was typed before it was ready.
		var err error
		for try := 0; try < 10; try++ {
			if err = c.send("echo RE\"\"ADY" + tag + "\n"); err != nil {
				return err
			}
			if err = c.expect("READY"+tag, 2*time.Second); err == nil {
				return nil
			}
		}
		return err
	}
	if err := ready("0"); err != nil {
		r.Error = err.Error()
		return r
	}
	var rates, echoes, cpu []float64
	var pids []int
	if relay != nil {
		pids = []int{relay(), c.cmd.Process.Pid}
	}
	line := strings.Repeat("x", 63)
	for i := 0; i < consoleRuns; i++ {
		ticks0, cpuOK := cpuTicks(pids)
		t0 := time.Now()
		if err := c.send(fmt.Sprintf("yes %s | head -c %d; echo; echo END\"\"MARK\n", line, consoleBytes)); err != nil {
			r.Error = err.Error()
			return r
		}
		if err := c.expect("ENDMARK", 120*time.Second); err != nil {
			r.Error = err.Error()
			return r
		}
		rates = append(rates, float64(consoleBytes)/1e6/time.Since(t0).Seconds())
		if ticks1, ok := cpuTicks(pids); ok && cpuOK {
			cpu = append(cpu, float64(ticks1-ticks0)*1000/clockTicks/(float64(consoleBytes)/1e6))
		}
	}
	if err := ready("1"); err != nil {
		r.Error = err.Error()
		return r
	}
	time.Sleep(100 * time.Millisecond) // the prompt after READY1
	for i := 0; i < echoKeys; i++ {
		t0 := time.Now()
		if err := c.send("z"); err != nil {
			r.Error = err.Error()
			return r
		}
		if err := c.expect("z", 10*time.Second); err != nil {
			r.Error = err.Error()
			return r
		}
		echoes = append(echoes, ms(time.Since(t0)))
	}
	_ = c.send("\n")
	_ = ready("2")
	r.MBPerS, r.EchoMs, r.RelayCPUMsPerMB = summarize(rates), summarize(echoes), summarize(cpu)
	return r
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture the harness runs on.
const clockTicks = 100

// cpuTicks sums the CPU time of pids; ok is false when there are none or
// one cannot be read (a process gone, a peer whose relay was not found).
func cpuTicks(pids []int) (int64, bool) {
	var sum int64
	for _, pid := range pids {
		if pid <= 0 {
			return 0, false
		}
		st, err := procStat(pid)
		if err != nil {
			return 0, false
		}
		sum += st.CPUTicks
	}
	return sum, len(pids) > 0
}

// vmliteLogs times `vmlite logs NAME` printing the capped log the
// throughput runs filled.
func vmliteLogs(vp *vmlitePeer, g *guest) ConsoleResult {
	r := ConsoleResult{Path: "vmlite logs", Description: "`vmlite logs` of the same guest to a file: the capped console log read back"}
	var rates []float64
	for i := 0; i < consoleRuns; i++ {
		out := filepath.Join(g.dir, "logs.out")
		f, err := os.Create(out)
		if err != nil {
			r.Error = err.Error()
			return r
		}
		cmd := vp.cmd("logs", g.name)
		cmd.Stdout = f
		t0 := time.Now()
		err = cmd.Run()
		d := time.Since(t0)
		st, _ := f.Stat()
		f.Close()
		if err != nil {
			r.Error = err.Error()
			return r
		}
		r.Bytes = st.Size()
		rates = append(rates, float64(st.Size())/1e6/d.Seconds())
	}
	r.MBPerS = summarize(rates)
	return r
}
