package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"vmlite/internal/exepages"
	"vmlite/libvirtrpc"
)

func init() { register(newServeCmd) }

// ServeGroup is the group whose members get read-write access to
// libvirt-sock (root always has it).
const ServeGroup = "vmlite"

// libvirtCompatDir is where libvirt clients look for the LXC driver's
// sockets when the URI names none (lxc:///system).
const libvirtCompatDir = "/run/libvirt"

const serveLong = `Serve libvirt's remote protocol, so that virsh, virt-install, virt-manager,
libvirt-python, go-libvirt, Terraform's provider and Nova manage vmlite's
guests:

  virsh -c 'lxc+unix:///system?socket=/run/vmlite/libvirt-sock' list --all

Sockets (in the runtime directory, /run/vmlite or DIR/run under --root DIR):
libvirt-sock, mode 0660, root and group vmlite read-write; libvirt-sock-ro,
mode 0666, read-only procedures only (mutating calls get
VIR_ERR_OPERATION_DENIED). --libvirt-compat also listens on
/run/libvirt/virtlxcd-sock and virtlxcd-sock-ro, so that plain
'virsh -c lxc:///system' reaches vmlite; it refuses if they exist.

serve runs in the foreground (a Type=notify systemd unit: it says READY=1
once it listens). Guests never depend on it: SIGTERM (or kill -9) ends the
daemon and leaves every guest running; started again it finds them all.
SIGUSR1 makes it log how many connections and goroutines it holds.
Lifecycle events reach registered clients whoever made the change (an RPC
client, the vmlite CLI, the guest itself).

Remote hosts: --listen-tls ADDR serves the same protocol over TLS with
libvirt's certificate layout (/etc/pki/CA/cacert.pem,
/etc/pki/libvirt/servercert.pem, /etc/pki/libvirt/private/serverkey.pem);
clients present a certificate the CA signed (and matching --tls-allowed-dn)
and get read-write access: virsh -c 'lxc+tls://HOST/system'. Through ssh,
no flag is needed: virsh -c
'lxc+ssh://root@HOST/system?socket=/run/vmlite/libvirt-sock' runs nc on HOST.`

// tlsFlags configure --listen-tls.
type tlsFlags struct {
	addr, ca, cert, key string
	allowedDNs          []string
}

func newServeCmd(app *App) *cobra.Command {
	var compat bool
	var maxClients int
	var tf tlsFlags
	cmd := &cobra.Command{
		Use:   "serve [--libvirt-compat] [--max-clients N] [--listen-tls ADDR]",
		Short: "Serve libvirt's remote protocol for virsh, virt-manager, libvirt-python and others",
		Long:  serveLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(app, compat, maxClients, tf)
		},
	}
	f := cmd.Flags()
	f.StringVar(&tf.addr, "listen-tls", "", "also serve libvirt's TLS transport on `ADDR` (host:port; libvirt's port is 16514), for lxc+tls://HOST/system")
	f.StringVar(&tf.ca, "tls-cacert", libvirtrpc.DefaultCACert, "CA certificate that client certificates must be signed by")
	f.StringVar(&tf.cert, "tls-cert", libvirtrpc.DefaultServerCert, "the server's certificate")
	f.StringVar(&tf.key, "tls-key", libvirtrpc.DefaultServerKey, "the server's private key")
	f.StringArrayVar(&tf.allowedDNs, "tls-allowed-dn", nil, "admit only clients whose certificate subject matches this `PATTERN` (RFC 4514 form, * wildcards, e.g. 'CN=*,O=Example,C=GB'; repeatable; default: any client the CA signed)")
	cmd.Flags().BoolVar(&compat, "libvirt-compat", false, "also listen on /run/libvirt/virtlxcd-sock{,-ro} (lxc:///system with no ?socket=)")
	cmd.Flags().IntVar(&maxClients, "max-clients", libvirtrpc.DefaultMaxConns, "most client connections open at once")
	return cmd
}

// serveSockets are the runtime directory's socket paths.
func serveSockets(app *App) (rw, ro string) {
	return filepath.Join(app.Layout.Run, "libvirt-sock"), filepath.Join(app.Layout.Run, "libvirt-sock-ro")
}

func runServe(app *App, compat bool, maxClients int, tf tlsFlags) error {
	if maxClients < 1 {
		return userErrorf("--max-clients %d: want at least 1", maxClients)
	}
	var tlsCfg *tls.Config
	if tf.addr != "" {
		var err error
		if tlsCfg, err = libvirtrpc.TLSConfig(tf.ca, tf.cert, tf.key); err != nil {
			return userErrorf("--listen-tls: %v", err)
		}
	}
	if err := app.Layout.Ensure(); err != nil {
		return err
	}
	be, err := newRPCBackend(app)
	if err != nil {
		return err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(app.Stderr, "vmlite serve: "+format+"\n", args...) }
	gid := libvirtrpc.GroupID(ServeGroup)
	srv := libvirtrpc.New(libvirtrpc.Config{Backend: be, MaxConns: maxClients, Authorize: libvirtrpc.PeerAuthorizer(gid), Logf: logf})

	type listener struct {
		l  net.Listener
		ro bool
	}
	var ls []listener
	closeAll := func() {
		for _, x := range ls {
			x.l.Close()
		}
	}
	rwPath, roPath := serveSockets(app)
	paths := []struct {
		path   string
		mode   os.FileMode
		ro     bool
		compat bool
	}{{rwPath, libvirtrpc.SockModeRW, false, false}, {roPath, libvirtrpc.SockModeRO, true, false}}
	if compat {
		if _, err := os.Stat(libvirtCompatDir); errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(libvirtCompatDir, 0o755); err != nil {
				return err
			}
			// Made here, so gone with the daemon (when nothing else moved in).
			defer os.Remove(libvirtCompatDir)
		}
		paths = append(paths,
			struct {
				path   string
				mode   os.FileMode
				ro     bool
				compat bool
			}{filepath.Join(libvirtCompatDir, "virtlxcd-sock"), libvirtrpc.SockModeRW, false, true},
			struct {
				path   string
				mode   os.FileMode
				ro     bool
				compat bool
			}{filepath.Join(libvirtCompatDir, "virtlxcd-sock-ro"), libvirtrpc.SockModeRO, true, true})
	}
	for _, p := range paths {
		listen := libvirtrpc.ListenUnix
		if p.compat {
			listen = libvirtrpc.ListenCompat
		}
		l, err := listen(p.path, p.mode, gid)
		if err != nil {
			closeAll()
			return err
		}
		ls = append(ls, listener{l, p.ro})
	}

	var tlsL net.Listener
	if tlsCfg != nil {
		var err error
		if tlsL, err = net.Listen("tcp", tf.addr); err != nil {
			closeAll()
			return fmt.Errorf("--listen-tls %s: %w", tf.addr, err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, len(ls)+1)
	go func() { errc <- srv.Run(ctx) }()
	go reapSupervisors(ctx)
	for _, x := range ls {
		go func() { errc <- srv.Serve(x.l, x.ro) }()
	}
	if tlsL != nil {
		go func() { errc <- srv.ServeTLS(tlsL, tlsCfg, tf.allowedDNs) }()
		logf("TLS on %s", tlsL.Addr())
	}
	logf("listening on %s and %s", rwPath, roPath)
	sdNotify("READY=1")
	// SIGUSR1 logs what the daemon holds, for an operator (and the load
	// test) to see that connections leave nothing behind.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	idle := time.NewTicker(exeDropIdle / idleTicks)
	defer idle.Stop()
	var seen, freed uint64 = 0, ^uint64(0)
	quiet := 0
wait:
	for {
		select {
		case <-idle.C:
			// No calls for exeDropIdle: give back the pages of vmlite's
			// code that calls and event rescans faulted in (most of the 17
			// MB binary, by fault-around; internal/exepages), and, after
			// calls, the heap they left.
			if n := srv.Calls(); n != seen {
				seen, quiet = n, 0
				continue
			}
			if quiet++; quiet < idleTicks {
				continue
			}
			if err := exepages.Drop(); err != nil {
				logf("give back the executable's pages: %v", err)
			}
			if seen != freed {
				debug.FreeOSMemory()
				freed = seen
			}
		case <-ctx.Done():
			err = nil
			break wait
		case err = <-errc:
			break wait
		case <-usr1:
			logf("status: %d connections, %d goroutines", srv.Conns(), runtime.NumGoroutine())
		}
	}
	sdNotify("STOPPING=1")
	// Only the daemon ends: guests and their supervisors are not its
	// children to stop.
	srv.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// exeDropIdle is how long the daemon waits without calls before it gives
// memory back: long enough that clients polling (virt-manager every few
// seconds) keep what they fault in, since the first call after a drop pays
// for faulting it in again (25 to 50 ms here, bench/README.md); checked
// idleTicks times over that span.
const (
	exeDropIdle = 30 * time.Second
	idleTicks   = 3
)

// sdNotify tells systemd about the daemon's state (Type=notify); a no-op
// outside systemd.
func sdNotify(state string) {
	sock := os.Getenv("NOTIFY_SOCKET")
	if sock == "" {
		return
	}
	if sock[0] == '@' {
		sock = "\x00" + sock[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = c.Write([]byte(state))
}
