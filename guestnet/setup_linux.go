package guestnet

import (
	"errors"
	"fmt"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"vmlite/internal/errdefs"
	"vmlite/internal/revert"
	"vmlite/plan"
)

// Setup gives the guest whose init has host pid pid its network: loopback up
// and every interface of ifaces created, addressed and routed, all from the
// host side. The host ends go to the calling thread's network namespace
// (the host's, for any thread that did not switch). The guest's network namespace must be its own (created with its
// user namespace, so that the guest's root owns it); its init must not run yet,
// so that it finds everything in place.
//
// Order per interface, each step recorded for undo as soon as it exists:
// create the veth (guest end born in the guest's namespace under its final
// name, with its MAC and MTU) or the macvlan, then the host end (bridge, up,
// host addresses), then the guest end's addresses, link up, routes. Routes
// come last because the kernel checks a gateway against the addresses and
// state of the link.
//
// undo removes exactly what Setup created; it is idempotent and counts a link
// that is already gone (the guest's namespace died with it) as removed. On
// failure Setup undoes its own work and returns the error, undo is nil.
func Setup(ifaces []plan.Interface, pid int) (undo func() error, err error) {
	specs, err := parseInterfaces(ifaces)
	if err != nil {
		return nil, err
	}
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, fmt.Errorf("open network namespace of pid %d: %w", pid, err)
	}
	defer ns.Close()
	if err := checkOwnNetns(ns, pid); err != nil {
		return nil, err
	}
	// NewHandleAt switches a locked thread of its own into ns just long
	// enough to open the netlink socket; the socket then stays bound to ns.
	guest, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open netlink in the network namespace of pid %d: %w", pid, err)
	}
	// The host handle is bound to the caller's namespace now, and undo
	// goes through it, so that undo works on the same namespace whichever
	// thread calls it.
	host, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		guest.Close()
		return nil, fmt.Errorf("open netlink: %w", err)
	}
	// A macvlan can only be deleted from inside the guest's namespace, so
	// for direct interfaces the guest handle (whose socket keeps the
	// namespace alive) is kept until undo too. Otherwise the namespace may
	// die with the guest, taking its ends of the veths along.
	keepGuest := false
	for _, s := range specs {
		keepGuest = keepGuest || s.Type == TypeDirect || s.Type == TypeHostdev
	}
	if !keepGuest {
		defer guest.Close()
	}
	var closeOnce sync.Once
	closeHandles := func() {
		closeOnce.Do(func() {
			host.Close()
			if keepGuest {
				guest.Close()
			}
		})
	}
	u := revert.New(revert.KeepFailed)
	defer func() {
		if err != nil {
			if uerr := u.Undo(); uerr != nil {
				err = errors.Join(err, fmt.Errorf("undo network set-up: %w", uerr))
			}
			closeHandles()
			undo = nil
		}
	}()

	if err := loopbackUp(guest); err != nil {
		return nil, err
	}
	env := &setupEnv{ns: ns, host: host, guest: guest, undo: u}
	for _, s := range specs {
		if err := env.setupInterface(s); err != nil {
			return nil, err
		}
	}
	// The handles stay open until every step is undone, so that a failed
	// undo can be retried through them.
	return func() error {
		if err := u.Undo(); err != nil {
			return err
		}
		closeHandles()
		return nil
	}, nil
}

// checkOwnNetns refuses a guest that shares the caller's network namespace:
// Setup would otherwise rename and address the host's own links.
func checkOwnNetns(ns netns.NsHandle, pid int) error {
	self, err := netns.Get() // this thread's, where the host ends go
	if err != nil {
		return fmt.Errorf("open own network namespace: %w", err)
	}
	defer self.Close()
	if ns.Equal(self) {
		return fmt.Errorf("%w: pid %d shares the host's network namespace", errdefs.ErrInvalid, pid)
	}
	return nil
}

func loopbackUp(guest *netlink.Handle) error {
	lo, err := guest.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("guest loopback: %w", err)
	}
	if err := guest.LinkSetUp(lo); err != nil {
		return fmt.Errorf("guest loopback up: %w", err)
	}
	return nil
}

// setupEnv is what setting up one interface needs: the guest's namespace,
// netlink handles in the host's and the guest's namespaces, and the undo
// stack to record what was created.
type setupEnv struct {
	ns    netns.NsHandle
	host  *netlink.Handle
	guest *netlink.Handle
	undo  *revert.Reverter
}

func (e *setupEnv) setupInterface(s *ifaceSpec) error {
	var err error
	switch s.Type {
	case TypeDirect:
		err = e.createMacvlan(s)
	case TypeHostdev:
		err = e.moveHostLink(s)
	default:
		err = e.createVeth(s)
	}
	if err != nil {
		return err
	}
	link, err := e.guest.LinkByName(s.GuestName)
	if err != nil {
		return s.errorf("find guest link %s: %w", s.GuestName, err)
	}
	if err := addAddresses(s, e.guest, link, s.ips); err != nil {
		return err
	}
	if s.up {
		if err := e.guest.LinkSetUp(link); err != nil {
			return s.errorf("guest link %s up: %w", s.GuestName, err)
		}
	}
	return addRoutes(s, e.guest, link)
}

// gone reports whether err says the link no longer exists.
func gone(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT)
}
