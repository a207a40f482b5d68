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
		id := c.s.nextCb.Add(1)
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.domCbs)+len(c.netCbs) >= maxCallbacksPerConn {
			return nil, errRPC("too many event callbacks on one connection (%d)", maxCallbacksPerConn)
		}
		c.domCbs[id] = cb
		return &libvirt.ConnectDomainEventCallbackRegisterAnyRet{CallbackID: id}, nil
	})
	reg(procConnectDomainEventCallbackDeregisterAny, false, func(c *conn, a *libvirt.ConnectDomainEventCallbackDeregisterAnyArgs) (*void, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.domCbs[a.CallbackID]; !ok {
			return nil, errorf(libvirt.ErrInvalidArg, "invalid argument: callback %d is not registered", a.CallbackID)
		}
		delete(c.domCbs, a.CallbackID)
		return nil, nil
	})
	reg(procConnectNetworkEventRegisterAny, false, func(c *conn, a *libvirt.ConnectNetworkEventRegisterAnyArgs) (*libvirt.ConnectNetworkEventRegisterAnyRet, error) {
		cb := netCallback{eventID: a.EventID}
		if len(a.Net) > 0 {
			u := [16]byte(a.Net[0].UUID)
			cb.uuid = &u
		}
		id := c.s.nextCb.Add(1)
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.domCbs)+len(c.netCbs) >= maxCallbacksPerConn {
			return nil, errRPC("too many event callbacks on one connection (%d)", maxCallbacksPerConn)
		}
		c.netCbs[id] = cb
		return &libvirt.ConnectNetworkEventRegisterAnyRet{CallbackID: id}, nil
	})
	reg(procConnectNetworkEventDeregisterAny, false, func(c *conn, a *libvirt.ConnectNetworkEventDeregisterAnyArgs) (*void, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.netCbs[a.CallbackID]; !ok {
			return nil, errorf(libvirt.ErrInvalidArg, "invalid argument: callback %d is not registered", a.CallbackID)
		}
		delete(c.netCbs, a.CallbackID)
		return nil, nil
	})
}

func uuidString(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
