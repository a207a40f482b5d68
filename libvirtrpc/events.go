package libvirtrpc

import (
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"
)

// maxCallbacksPerConn bounds one client's event registrations (virsh event
// --all makes 27, one per event id).
const maxCallbacksPerConn = 256

func init() {
	// Every event id is accepted (virsh event --all registers each of
	// 0..26); only lifecycle and reboot ever fire for a container.
	reg(procConnectDomainEventCallbackRegisterAny, false, func(c *conn, a *libvirt.ConnectDomainEventCallbackRegisterAnyArgs) (*libvirt.ConnectDomainEventCallbackRegisterAnyRet, error) {
		cb := domCallback{eventID: a.EventID}
		if len(a.Dom) > 0 {
			u := [16]byte(a.Dom[0].UUID)
			cb.uuid = &u
		}
		id, err := addCallback(c, domCbs, cb)
		if err != nil {
			return nil, err
		}
		return &libvirt.ConnectDomainEventCallbackRegisterAnyRet{CallbackID: id}, nil
	})
	reg(procConnectDomainEventCallbackDeregisterAny, false, func(c *conn, a *libvirt.ConnectDomainEventCallbackDeregisterAnyArgs) (*void, error) {
		return nil, removeCallback(c, domCbs, a.CallbackID)
	})
	reg(procConnectNetworkEventRegisterAny, false, func(c *conn, a *libvirt.ConnectNetworkEventRegisterAnyArgs) (*libvirt.ConnectNetworkEventRegisterAnyRet, error) {
		cb := netCallback{eventID: a.EventID}
		if len(a.Net) > 0 {
			u := [16]byte(a.Net[0].UUID)
			cb.uuid = &u
		}
		id, err := addCallback(c, netCbs, cb)
		if err != nil {
			return nil, err
		}
		return &libvirt.ConnectNetworkEventRegisterAnyRet{CallbackID: id}, nil
	})
	reg(procConnectNetworkEventDeregisterAny, false, func(c *conn, a *libvirt.ConnectNetworkEventDeregisterAnyArgs) (*void, error) {
		return nil, removeCallback(c, netCbs, a.CallbackID)
	})
}

// domCbs and netCbs name one of a connection's callback maps; they are
// read under c.mu (CONNECT_CLOSE replaces the maps).
func domCbs(c *conn) map[int32]domCallback { return c.domCbs }
func netCbs(c *conn) map[int32]netCallback { return c.netCbs }

// addCallback records cb in the map cbs names under a new id, refused past
// maxCallbacksPerConn callbacks of both kinds together.
func addCallback[T any](c *conn, cbs func(*conn) map[int32]T, cb T) (int32, error) {
	id := c.s.nextCb.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.domCbs)+len(c.netCbs) >= maxCallbacksPerConn {
		return 0, errRPC("too many event callbacks on one connection (%d)", maxCallbacksPerConn)
	}
	cbs(c)[id] = cb
	return id, nil
}

// removeCallback drops id from the map cbs names; an id not registered
// there is the client's error.
func removeCallback[T any](c *conn, cbs func(*conn) map[int32]T, id int32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := cbs(c)[id]; !ok {
		return errorf(libvirt.ErrInvalidArg, "invalid argument: callback %d is not registered", id)
	}
	delete(cbs(c), id)
	return nil
}

func uuidString(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
