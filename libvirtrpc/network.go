package libvirtrpc

import (
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"
)

func nref(n NetworkInfo) libvirt.Network { return libvirt.Network{Name: n.Name, UUID: n.UUID} }

// netErr gives a network call's error libvirt's network codes
// (VIR_ERR_NO_NETWORK 43, domain VIR_FROM_NETWORK).
func netErr(err error) error {
	if err == nil {
		return nil
	}
	return toError(err, true)
}

func (c *conn) lookupNet(n libvirt.Network) (NetworkInfo, error) {
	ni, err := c.s.cfg.Backend.LookupNetwork(n.Name)
	return ni, netErr(err)
}

// netXMLFlags refuses flags other than known, as libvirt's
// virCheckFlags does.
func netXMLFlags(proc string, flags, known uint32) error {
	if flags&^known != 0 {
		return &Error{Code: libvirt.ErrInvalidArg, Domain: fromNetwork,
			Msg: fmt.Sprintf("invalid argument: unsupported flags (0x%x) in %s", flags&^known, proc)}
	}
	return nil
}

func matchNetFlags(n NetworkInfo, f libvirt.ConnectListAllNetworksFlags) bool {
	group := func(yes, no libvirt.ConnectListAllNetworksFlags, is bool) bool {
		return f&(yes|no) == 0 || (is && f&yes != 0) || (!is && f&no != 0)
	}
	return group(libvirt.ConnectListNetworksActive, libvirt.ConnectListNetworksInactive, n.Active) &&
		group(libvirt.ConnectListNetworksPersistent, libvirt.ConnectListNetworksTransient, n.Persistent) &&
		group(libvirt.ConnectListNetworksAutostart, libvirt.ConnectListNetworksNoAutostart, n.Autostart)
}

func init() {
	b := func(c *conn) Backend { return c.s.cfg.Backend }
	reg(procConnectListAllNetworks, false, func(c *conn, a *libvirt.ConnectListAllNetworksArgs) (*libvirt.ConnectListAllNetworksRet, error) {
		all, err := b(c).ListNetworks()
		if err != nil {
			return nil, netErr(err)
		}
		r := &libvirt.ConnectListAllNetworksRet{Nets: []libvirt.Network{}}
		for _, n := range all {
			if matchNetFlags(n, a.Flags) {
				r.Ret++
				if a.NeedResults != 0 {
					r.Nets = append(r.Nets, nref(n))
				}
			}
		}
		return r, nil
	})
	active := func(c *conn) ([]NetworkInfo, error) {
		all, err := b(c).ListNetworks()
		var out []NetworkInfo
		for _, n := range all {
			if n.Active {
				out = append(out, n)
			}
		}
		return out, netErr(err)
	}
	reg(procConnectNumOfNetworks, false, func(c *conn, _ *void) (*libvirt.ConnectNumOfNetworksRet, error) {
		ns, err := active(c)
		return &libvirt.ConnectNumOfNetworksRet{Num: int32(len(ns))}, err
	})
	reg(procConnectListNetworks, false, func(c *conn, a *libvirt.ConnectListNetworksArgs) (*libvirt.ConnectListNetworksRet, error) {
		ns, err := active(c)
		r := &libvirt.ConnectListNetworksRet{Names: []string{}}
		for _, n := range ns {
			if int32(len(r.Names)) < a.Maxnames {
				r.Names = append(r.Names, n.Name)
			}
		}
		return r, err
	})
	reg(procNetworkGetDhcpLeases, false, func(c *conn, a *libvirt.NetworkGetDhcpLeasesArgs) (*libvirt.NetworkGetDhcpLeasesRet, error) {
		if a.Flags != 0 {
			return nil, errorf(libvirt.ErrInvalidArg, "invalid argument: unsupported flags (0x%x) in NETWORK_GET_DHCP_LEASES", a.Flags)
		}
		if _, err := c.lookupNet(a.Net); err != nil {
			return nil, err
		}
		mac := ""
		if len(a.Mac) > 0 {
			mac = a.Mac[0]
		}
		ls, err := b(c).NetworkDHCPLeases(a.Net.Name, mac)
		if err != nil {
			return nil, netErr(err)
		}
		opt := func(s string) libvirt.OptString {
			if s == "" {
				return nil
			}
			return libvirt.OptString{s}
		}
		r := &libvirt.NetworkGetDhcpLeasesRet{Leases: []libvirt.NetworkDhcpLease{}, Ret: uint32(len(ls))}
		if a.NeedResults != 0 {
			for _, l := range ls {
				r.Leases = append(r.Leases, libvirt.NetworkDhcpLease{Iface: l.Iface, Expirytime: l.Expiry,
					Type: int32(libvirt.IPAddrTypeIpv4), Mac: opt(l.MAC), Ipaddr: l.IP, Prefix: l.Prefix,
					Hostname: opt(l.Hostname), Clientid: opt(l.ClientID)})
			}
		}
		return r, nil
	})
	reg(procNetworkLookupByName, false, func(c *conn, a *libvirt.NetworkLookupByNameArgs) (*libvirt.NetworkLookupByNameRet, error) {
		n, err := b(c).LookupNetwork(a.Name)
		return &libvirt.NetworkLookupByNameRet{Net: nref(n)}, netErr(err)
	})
	reg(procNetworkLookupByUUID, false, func(c *conn, a *libvirt.NetworkLookupByUUIDArgs) (*libvirt.NetworkLookupByUUIDRet, error) {
		all, err := b(c).ListNetworks()
		if err != nil {
			return nil, netErr(err)
		}
		for _, n := range all {
			if n.UUID == a.UUID {
				return &libvirt.NetworkLookupByUUIDRet{Net: nref(n)}, nil
			}
		}
		return nil, &Error{Code: libvirt.ErrNoNetwork, Domain: fromNetwork, Msg: "Network not found: no network with matching uuid '" + uuidString(a.UUID) + "'"}
	})
	reg(procNetworkGetXMLDesc, false, func(c *conn, a *libvirt.NetworkGetXMLDescArgs) (*libvirt.NetworkGetXMLDescRet, error) {
		if _, err := c.lookupNet(a.Net); err != nil {
			return nil, err
		}
		if a.Flags&^uint32(libvirt.NetworkXMLInactive) != 0 {
			return nil, &Error{Code: libvirt.ErrInvalidArg, Domain: fromNetwork,
				Msg: fmt.Sprintf("invalid argument: unsupported flags (0x%x) in NETWORK_GET_XML_DESC", a.Flags&^uint32(libvirt.NetworkXMLInactive))}
		}
		x, err := b(c).NetworkXML(a.Net.Name, a.Flags&uint32(libvirt.NetworkXMLInactive) != 0)
		return &libvirt.NetworkGetXMLDescRet{XML: string(x)}, netErr(err)
	})
	reg(procNetworkIsActive, false, func(c *conn, a *libvirt.NetworkIsActiveArgs) (*libvirt.NetworkIsActiveRet, error) {
		n, err := c.lookupNet(a.Net)
		return &libvirt.NetworkIsActiveRet{Active: boolInt(n.Active)}, err
	})
	reg(procNetworkIsPersistent, false, func(c *conn, a *libvirt.NetworkIsPersistentArgs) (*libvirt.NetworkIsPersistentRet, error) {
		n, err := c.lookupNet(a.Net)
		return &libvirt.NetworkIsPersistentRet{Persistent: boolInt(n.Persistent)}, err
	})
	reg(procNetworkGetAutostart, false, func(c *conn, a *libvirt.NetworkGetAutostartArgs) (*libvirt.NetworkGetAutostartRet, error) {
		n, err := c.lookupNet(a.Net)
		return &libvirt.NetworkGetAutostartRet{Autostart: boolInt(n.Autostart)}, err
	})
	reg(procNetworkGetBridgeName, false, func(c *conn, a *libvirt.NetworkGetBridgeNameArgs) (*libvirt.NetworkGetBridgeNameRet, error) {
		n, err := c.lookupNet(a.Net)
		return &libvirt.NetworkGetBridgeNameRet{Name: n.Bridge}, err
	})
	reg(procNetworkDefineXML, true, func(c *conn, a *libvirt.NetworkDefineXMLArgs) (*libvirt.NetworkDefineXMLRet, error) {
		n, err := b(c).DefineNetwork([]byte(a.XML))
		return &libvirt.NetworkDefineXMLRet{Net: nref(n)}, netErr(err)
	})
	// The _FLAGS forms take VIR_NETWORK_{DEFINE,CREATE}_VALIDATE (virsh
	// --validate), which asks for what vmlite always does: the XML is
	// checked strictly against what it implements.
	reg(procNetworkDefineXMLFlags, true, func(c *conn, a *libvirt.NetworkDefineXMLFlagsArgs) (*libvirt.NetworkDefineXMLFlagsRet, error) {
		if err := netXMLFlags("NETWORK_DEFINE_XML_FLAGS", a.Flags, uint32(libvirt.NetworkDefineValidate)); err != nil {
			return nil, err
		}
		n, err := b(c).DefineNetwork([]byte(a.XML))
		return &libvirt.NetworkDefineXMLFlagsRet{Net: nref(n)}, netErr(err)
	})
	reg(procNetworkCreateXML, true, func(c *conn, a *libvirt.NetworkCreateXMLArgs) (*libvirt.NetworkCreateXMLRet, error) {
		n, err := b(c).CreateNetwork([]byte(a.XML))
		return &libvirt.NetworkCreateXMLRet{Net: nref(n)}, netErr(err)
	})
	reg(procNetworkCreateXMLFlags, true, func(c *conn, a *libvirt.NetworkCreateXMLFlagsArgs) (*libvirt.NetworkCreateXMLFlagsRet, error) {
		if err := netXMLFlags("NETWORK_CREATE_XML_FLAGS", a.Flags, uint32(libvirt.NetworkCreateValidate)); err != nil {
			return nil, err
		}
		n, err := b(c).CreateNetwork([]byte(a.XML))
		return &libvirt.NetworkCreateXMLFlagsRet{Net: nref(n)}, netErr(err)
	})
	reg(procNetworkUndefine, true, func(c *conn, a *libvirt.NetworkUndefineArgs) (*void, error) {
		if _, err := c.lookupNet(a.Net); err != nil {
			return nil, err
		}
		return nil, netErr(b(c).UndefineNetwork(a.Net.Name))
	})
	reg(procNetworkCreate, true, func(c *conn, a *libvirt.NetworkCreateArgs) (*void, error) {
		n, err := c.lookupNet(a.Net)
		if err != nil {
			return nil, err
		}
		if n.Active {
			return nil, &Error{Code: libvirt.ErrOperationInvalid, Domain: fromNetwork, Msg: "Requested operation is not valid: network is already active"}
		}
		return nil, netErr(b(c).StartNetwork(a.Net.Name))
	})
	reg(procNetworkDestroy, true, func(c *conn, a *libvirt.NetworkDestroyArgs) (*void, error) {
		n, err := c.lookupNet(a.Net)
		if err != nil {
			return nil, err
		}
		if !n.Active {
			return nil, &Error{Code: libvirt.ErrOperationInvalid, Domain: fromNetwork, Msg: "Requested operation is not valid: network is not active"}
		}
		return nil, netErr(b(c).DestroyNetwork(a.Net.Name))
	})
	reg(procNetworkSetAutostart, true, func(c *conn, a *libvirt.NetworkSetAutostartArgs) (*void, error) {
		if _, err := c.lookupNet(a.Net); err != nil {
			return nil, err
		}
		return nil, netErr(b(c).SetNetworkAutostart(a.Net.Name, a.Autostart != 0))
	})
}
