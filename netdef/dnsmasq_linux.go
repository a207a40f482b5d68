package netdef

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/state"
)

// The DHCP server of a network is dnsmasq, as with libvirt. It runs as a
// daemon (so it outlives `vmlite net-start`) with only the configuration
// vmlite writes to RUN/networks/NAME/dnsmasq.conf (--conf-file=, so that
// nothing of /etc/dnsmasq.conf leaks in), confined to the bridge:
//
//	port=0                     no DNS at all: DHCP only
//	interface=BR, bind-dynamic, except-interface=lo
//	                           DHCP on the bridge and nowhere else
//	dhcp-range=START,END,MASK  per <range>; "NET,static,MASK" without
//	                           ranges, so that only fixed hosts get leases
//	dhcp-host=MAC,IP[,NAME]    per <host> and per AllocateAddress record
//	dhcp-leasefile, pid-file, log-facility
//	                           all in RUN/networks/NAME
//
// dnsmasq reads all that as root, then drops to "nobody". The fixed hosts
// are in the configuration rather than in a dhcp-hostsfile (which dnsmasq
// re-reads on SIGHUP, as nobody) because nobody cannot read vmlite's
// root-only run directory; a new allocation restarts the server instead
// (leases survive in the lease file).

func dnsmasqPidFile(l state.Layout, name string) string {
	return filepath.Join(RunDir(l, name), "dnsmasq.pid")
}

func dnsmasqLeaseFile(l state.Layout, name string) string {
	return filepath.Join(RunDir(l, name), "dnsmasq.leases")
}

func dnsmasqConfFile(l state.Layout, name string) string {
	return filepath.Join(RunDir(l, name), "dnsmasq.conf")
}

// dnsmasqConf builds dnsmasq's configuration for n with the fixed hosts.
func dnsmasqConf(l state.Layout, n *Network, hosts []DHCPHost) string {
	c := n.IPv4()
	mask := net.IP(c.Net.Mask).String()
	lines := []string{
		"# written by vmlite for network " + n.Name + "; rewritten at each start",
		"port=0",
		"interface=" + n.Bridge,
		"bind-dynamic",
		"except-interface=lo",
		"dhcp-authoritative",
		"dhcp-no-override",
		"pid-file=" + dnsmasqPidFile(l, n.Name),
		"dhcp-leasefile=" + dnsmasqLeaseFile(l, n.Name),
		"log-facility=" + filepath.Join(RunDir(l, n.Name), "dnsmasq.log"),
		"log-dhcp",
		"dhcp-option=option:router," + c.Address.String(),
	}
	for _, r := range c.Ranges {
		lines = append(lines, fmt.Sprintf("dhcp-range=%s,%s,%s,1h", r.Start, r.End, mask))
	}
	if len(c.Ranges) == 0 {
		lines = append(lines, fmt.Sprintf("dhcp-range=%s,static,%s,1h", c.Net.IP, mask))
	}
	for _, h := range hosts {
		a := "dhcp-host=" + h.MAC.String() + "," + h.IP.String()
		if h.Name != "" {
			a += "," + h.Name
		}
		lines = append(lines, a)
	}
	return strings.Join(lines, "\n") + "\n"
}

// dnsmasqBinary finds dnsmasq, also in /usr/sbin when PATH lacks it.
func dnsmasqBinary() (string, error) {
	if p, err := exec.LookPath("dnsmasq"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/dnsmasq", "/sbin/dnsmasq"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("dnsmasq not found: install dnsmasq-base (scripts/install-deps.sh)")
}

// startDnsmasq starts n's DHCP server and returns once it serves: dnsmasq's
// foreground process exits only after the daemon has bound its sockets, and
// reports a failure to do so in its exit status.
func startDnsmasq(l state.Layout, n *Network, hosts []DHCPHost) error {
	bin, err := dnsmasqBinary()
	if err != nil {
		return err
	}
	conf := dnsmasqConfFile(l, n.Name)
	if err := state.WriteFileAtomic(conf, []byte(dnsmasqConf(l, n, hosts)), 0o600); err != nil {
		return fmt.Errorf("configure dnsmasq for network %s: %w", n.Name, err)
	}
	cmd := exec.Command(bin, "--conf-file="+conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("start dnsmasq for network %s: %w: %s", n.Name, err, strings.TrimSpace(out.String()))
	}
	if _, err := dnsmasqPid(l, n.Name); err != nil {
		return fmt.Errorf("start dnsmasq for network %s: %w", n.Name, err)
	}
	return nil
}

// dnsmasqPid returns the pid of n's running dnsmasq, checking that the
// process is still that dnsmasq (its command line names our configuration),
// so a recycled pid is never signalled. fs.ErrNotExist: none runs.
func dnsmasqPid(l state.Layout, name string) (int, error) {
	pidFile := dnsmasqPidFile(l, name)
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: %q is not a pid", pidFile, b)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte("--conf-file="+dnsmasqConfFile(l, name)+"\x00")) {
		return 0, fs.ErrNotExist
	}
	return pid, nil
}

// stopDnsmasq stops n's dnsmasq (SIGTERM, then SIGKILL after 5s) and waits
// for it to be gone. None running is not an error.
func stopDnsmasq(l state.Layout, name string) error {
	pid, err := dnsmasqPid(l, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sig := unix.SIGTERM
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := unix.Kill(pid, sig); errors.Is(err, unix.ESRCH) {
			break
		}
		if _, err := dnsmasqPid(l, name); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			if sig == unix.SIGKILL {
				return fmt.Errorf("dnsmasq (pid %d) of network %s does not exit", pid, name)
			}
			sig, deadline = unix.SIGKILL, time.Now().Add(5*time.Second)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := os.Remove(dnsmasqPidFile(l, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove dnsmasq pid file: %w", err)
	}
	return nil
}
