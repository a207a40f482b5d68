package libvirtrpc

import (
	"github.com/digitalocean/go-libvirt"

	"vmlite/service"
)

// virDomainAttachDevice(Flags), virDomainDetachDevice(Flags) and
// virDomainUpdateDeviceFlags: virsh attach-device, detach-device and
// update-device. The calls without flags affect the running guest, as
// libvirt's do; the flags are VIR_DOMAIN_AFFECT_* (libvirt's LXC driver
// takes no others).
const (
	procDomainAttachDevice      int32 = 8
	procDomainDetachDevice      int32 = 13
	procDomainAttachDeviceFlags int32 = 160
	procDomainDetachDeviceFlags int32 = 161
	procDomainUpdateDeviceFlags int32 = 174
)

func init() {
	b := func(c *conn) Backend { return c.s.cfg.Backend }
	reg(procDomainAttachDevice, true, func(c *conn, a *libvirt.DomainAttachDeviceArgs) (*void, error) {
		return nil, c.device(a.Dom, b(c).AttachDevice, a.XML, uint32(libvirt.DomainAffectLive))
	})
	reg(procDomainAttachDeviceFlags, true, func(c *conn, a *libvirt.DomainAttachDeviceFlagsArgs) (*void, error) {
		return nil, c.device(a.Dom, b(c).AttachDevice, a.XML, a.Flags)
	})
	reg(procDomainDetachDevice, true, func(c *conn, a *libvirt.DomainDetachDeviceArgs) (*void, error) {
		return nil, c.device(a.Dom, b(c).DetachDevice, a.XML, uint32(libvirt.DomainAffectLive))
	})
	reg(procDomainDetachDeviceFlags, true, func(c *conn, a *libvirt.DomainDetachDeviceFlagsArgs) (*void, error) {
		return nil, c.device(a.Dom, b(c).DetachDevice, a.XML, a.Flags)
	})
	reg(procDomainUpdateDeviceFlags, true, func(c *conn, a *libvirt.DomainUpdateDeviceFlagsArgs) (*void, error) {
		return nil, c.device(a.Dom, b(c).UpdateDevice, a.XML, uint32(a.Flags))
	})
}

// device runs one device call on dom.
func (c *conn) device(dom libvirt.Domain, op func(name string, xml []byte, affect service.Affect) error, xml string, flags uint32) error {
	if _, err := c.lookup(dom); err != nil {
		return err
	}
	affect, err := c.affectFor(dom, flags, 0)
	if err != nil {
		return err
	}
	return op(dom.Name, []byte(xml), affect)
}
