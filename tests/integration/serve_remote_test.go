//go:build integration

package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmlite/internal/testutil"
)

func openssl(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// makePKI makes a CA, a server certificate for 127.0.0.1 and client
// certificates in libvirt's pkipath layout: DIR/cacert.pem,
// DIR/clientcert.pem, DIR/clientkey.pem per client directory.
func makePKI(t *testing.T, clients map[string]string) (dir string) {
	t.Helper()
	requireTool(t, "openssl")
	dir = t.TempDir()
	openssl(t, dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "cakey.pem", "-out", "cacert.pem", "-days", "2", "-subj", "/CN=vmlite test CA")
	openssl(t, dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "serverkey.pem", "-out", "server.csr", "-subj", "/O=vmlite-test/CN=127.0.0.1")
	if err := os.WriteFile(filepath.Join(dir, "san.ext"), []byte("subjectAltName=IP:127.0.0.1,DNS:localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	openssl(t, dir, "x509", "-req", "-in", "server.csr", "-CA", "cacert.pem", "-CAkey", "cakey.pem", "-CAcreateserial", "-out", "servercert.pem", "-days", "2", "-extfile", "san.ext")
	for name, subj := range clients {
		cd := filepath.Join(dir, name)
		if err := os.Mkdir(cd, 0o700); err != nil {
			t.Fatal(err)
		}
		openssl(t, cd, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "clientkey.pem", "-out", "client.csr", "-subj", subj)
		openssl(t, cd, "x509", "-req", "-in", "client.csr", "-CA", "../cacert.pem", "-CAkey", "../cakey.pem", "-CAcreateserial", "-out", "clientcert.pem", "-days", "2")
		b, _ := os.ReadFile(filepath.Join(dir, "cacert.pem"))
		if err := os.WriteFile(filepath.Join(cd, "cacert.pem"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestServeTLS: virsh over lxc+tls:// with libvirt's certificate
// layout; a client whose DN is not allowed, and one signed by another CA,
// are refused.
func TestServeTLS(t *testing.T) {
	h := newHarness(t)
	pki := makePKI(t, map[string]string{"alice": "/C=XX/O=vmlite-test/CN=alice", "mallory": "/C=XX/O=vmlite-test/CN=mallory"})
	other := makePKI(t, map[string]string{"eve": "/C=XX/O=vmlite-test/CN=alice"})
	port := freePort(t)
	d := h.serve("--listen-tls", fmt.Sprintf("127.0.0.1:%d", port), "--tls-cacert", pki+"/cacert.pem",
		"--tls-cert", pki+"/servercert.pem", "--tls-key", pki+"/serverkey.pem", "--tls-allowed-dn", "CN=alice,O=vmlite-test,C=*")
	name := h.uniqueName("it-rpctls")
	xml, _ := h.busybox(name, false)
	h.must("define", xml)
	uri := func(dir string) string { return fmt.Sprintf("lxc+tls://127.0.0.1:%d/system?pkipath=%s", port, dir) }
	r := runTool(t, nil, "virsh", "-c", uri(pki+"/alice"), "list", "--all", "--name")
	if r.code != 0 || !strings.Contains(r.stdout, name) {
		t.Fatalf("virsh over TLS as alice: %v\ndaemon:\n%s", r, tail(d.log.String()))
	}
	// Read-write: alice may start and destroy.
	if r := runTool(t, nil, "virsh", "-c", uri(pki+"/alice"), "start", name); r.code != 0 {
		t.Fatalf("start over TLS: %v", r)
	}
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	if r := runTool(t, nil, "virsh", "-c", uri(pki+"/alice"), "destroy", name); r.code != 0 {
		t.Fatalf("destroy over TLS: %v", r)
	}
	if r := runTool(t, nil, "virsh", "-c", uri(pki+"/mallory"), "list", "--all"); r.code == 0 {
		t.Errorf("a DN outside the allow-list was served: %v", r)
	}
	if r := runTool(t, nil, "virsh", "-c", uri(other+"/eve"), "list", "--all"); r.code == 0 {
		t.Errorf("a certificate of another CA was served: %v", r)
	}
	if !strings.Contains(d.log.String(), "not in the allow-list") {
		t.Errorf("daemon log does not say why mallory was refused:\n%s", d.log.String())
	}
}

// TestServeSSH: virsh over lxc+ssh:// reaches the daemon through its unix
// socket (libvirt's ssh transport runs nc on the remote end), against an
// sshd the test starts on 127.0.0.1 with its own host key, client key and
// config. The client's known_hosts is /dev/null: root's is not touched.
func TestServeSSH(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	requireTool(t, "/usr/sbin/sshd")
	requireTool(t, "ssh-keygen")
	requireTool(t, "nc")
	dir := t.TempDir()
	for _, k := range []string{"hostkey", "clientkey"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "clientkey.pub"))
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/hostkey
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
`, port, dir, dir, dir)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Debian's sshd insists on its privilege separation directory.
	if _, err := os.Stat("/run/sshd"); os.IsNotExist(err) {
		if err := os.Mkdir("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Remove("/run/sshd") })
	}
	sshd, sshdLog := startTool(t, nil, "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	_ = sshd
	testutil.WaitFor(t, 20*time.Second, "sshd to listen", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	wrapper := filepath.Join(dir, "ssh")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexec ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	name := h.uniqueName("it-rpcssh")
	xml, _ := h.busybox(name, false)
	h.must("define", xml)
	uri := fmt.Sprintf("lxc+ssh://root@127.0.0.1:%d/system?socket=%s&keyfile=%s/clientkey&command=%s&proxy=netcat&no_tty=1", port, d.rw, dir, wrapper)
	r := runTool(t, nil, "virsh", "-c", uri, "list", "--all", "--name")
	if r.code != 0 || !strings.Contains(r.stdout, name) {
		t.Fatalf("virsh over ssh: %v\nsshd:\n%s", r, sshdLog.String())
	}
	if r := runTool(t, nil, "virsh", "-c", uri, "start", name); r.code != 0 {
		t.Fatalf("start over ssh: %v", r)
	}
	h.waitConsole(name, "vmlite-guest: BOOTED "+name)
	if r := runTool(t, nil, "virsh", "-c", uri, "destroy", name); r.code != 0 {
		t.Fatalf("destroy over ssh: %v", r)
	}
}

// TestServeLibvirtCompat: with --libvirt-compat, plain `virsh -c
// lxc:///system` (no ?socket=) reaches vmlite through
// /run/libvirt/virtlxcd-sock, -r through virtlxcd-sock-ro; a second
// daemon refuses the taken paths; the daemon's end removes them.
func TestServeLibvirtCompat(t *testing.T) {
	const sock = "/run/libvirt/virtlxcd-sock"
	if _, err := os.Lstat(sock); err == nil {
		t.Skipf("SKIP: %s exists (a libvirt daemon?): not ours to take", sock)
	}
	_, dirErr := os.Stat("/run/libvirt")
	h := newHarness(t)
	d := h.serve("--libvirt-compat")
	name := h.uniqueName("it-rpccompat")
	xml, _ := h.busybox(name, false)
	h.must("define", xml)
	if r := runTool(t, nil, "virsh", "-c", "lxc:///system", "list", "--all", "--name"); r.code != 0 || !strings.Contains(r.stdout, name) {
		t.Fatalf("virsh -c lxc:///system: %v", r)
	}
	if r := runTool(t, nil, "virsh", "-r", "-c", "lxc:///system", "undefine", name); r.code == 0 || !strings.Contains(r.stderr, "operation forbidden") {
		t.Errorf("virsh -r undefine: %v", r)
	}
	h2 := newHarness(t)
	r := h2.run("serve", "--libvirt-compat")
	if r.code == 0 || !strings.Contains(r.stderr, sock+" exists") {
		t.Errorf("a second daemon with --libvirt-compat: %v", r)
	}
	d.stop()
	if _, err := os.Lstat(sock); err == nil {
		t.Errorf("%s left after the daemon ended", sock)
	}
	if _, err := os.Stat("/run/libvirt"); os.IsNotExist(dirErr) && err == nil {
		t.Errorf("/run/libvirt, made by the daemon, left after it ended")
	}
}
