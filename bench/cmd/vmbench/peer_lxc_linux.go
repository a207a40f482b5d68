package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// lxcPeer drives lxc-start/lxc-stop with a private lxcpath, configured as
// anchors.md records (Debian's common.conf, no network, no ttys, 256 MiB).
type lxcPeer struct {
	path string
	// halt is lxc.signal.halt when set: SIGRTMIN+3 for a systemd guest
	// (LXC's default, SIGPWR, is busybox's halt).
	halt string
	// memBytes is the memory limit; 0 is 256 MiB.
	memBytes int64
}

func (p *lxcPeer) name() string           { return "lxc" }
func (p *lxcPeer) supervisorName() string { return "[lxc monitor]" }
func (p *lxcPeer) detached() bool         { return true }

func (p *lxcPeer) versions() map[string]string {
	return map[string]string{"lxc": dpkgVersion("lxc"), "liblxc1": dpkgVersion("liblxc1")}
}

func (p *lxcPeer) setup(work string) error {
	if err := ensurePackages("lxc"); err != nil {
		return err
	}
	p.path = filepath.Join(work, "lxc")
	return os.MkdirAll(p.path, 0o755)
}

func (p *lxcPeer) prepare(g *guest) error {
	dir := filepath.Join(p.path, g.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mem := p.memBytes
	if mem == 0 {
		mem = 256 << 20
	}
	lines := []string{
		"lxc.include = /usr/share/lxc/config/common.conf",
		"lxc.uts.name = " + g.name,
		"lxc.rootfs.path = dir:" + g.rootfs,
		"lxc.init.cmd = /sbin/init",
		"lxc.net.0.type = empty",
		"lxc.tty.max = 0",
		"lxc.console.logfile = " + filepath.Join(g.dir, "console.log"),
		"lxc.cgroup.memory.limit_in_bytes = " + strconv.FormatInt(mem, 10),
	}
	if p.halt != "" {
		lines = append(lines, "lxc.signal.halt = "+p.halt)
	}
	conf := strings.Join(lines, "\n") + "\n"
	return os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644)
}

func (p *lxcPeer) lxc(tool, name string, args ...string) *exec.Cmd {
	return exec.Command(tool, append([]string{"-n", name, "-P", p.path}, args...)...)
}

func (p *lxcPeer) startCmd(g *guest) *exec.Cmd { return p.lxc("lxc-start", g.name) }

func (p *lxcPeer) procs(g *guest) (int, int, error) {
	out, err := runCmd(p.lxc("lxc-info", g.name, "-p", "-H"))
	if err != nil {
		return 0, 0, err
	}
	initPID, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return 0, 0, fmt.Errorf("lxc-info -p: %q", out)
	}
	st, err := procStat(initPID)
	if err != nil {
		return 0, 0, err
	}
	return st.PPID, initPID, nil // the monitor is init's parent
}

func (p *lxcPeer) stop(g *guest, forced bool) error {
	args := []string{}
	if forced {
		args = append(args, "-k")
	}
	_, err := runCmd(p.lxc("lxc-stop", g.name, args...))
	return err
}

func (p *lxcPeer) gracefulUnsupported() string { return "" }

func (p *lxcPeer) cleanupGuest(g *guest) {
	_, _ = runCmd(p.lxc("lxc-stop", g.name, "-k"))
}

func (p *lxcPeer) teardown() {
	ents, _ := os.ReadDir(p.path)
	for _, e := range ents {
		_, _ = runCmd(p.lxc("lxc-stop", e.Name(), "-k"))
	}
}
