package libvirtrpc

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"vmlite/service"
	"vmlite/state"
)

func ref(d DomainInfo) libvirt.Domain { return libvirt.Domain{Name: d.Name, UUID: d.UUID, ID: d.ID} }

// lookup finds the domain a call names. Clients send the whole ref; the
// name is what vmlite keys on, and a uuid that does not match it is a miss
// (a guest redefined under the client's feet).
func (c *conn) lookup(d libvirt.Domain) (DomainInfo, error) {
	di, err := c.s.cfg.Backend.LookupDomain(d.Name)
	if err != nil {
		return di, err
	}
	if d.UUID != ([16]byte{}) && d.UUID != di.UUID {
		return di, errorf(libvirt.ErrNoDomain, "Domain not found: no domain with matching uuid '%s' (%s)", uuidString(d.UUID), d.Name)
	}
	return di, nil
}

// domainState maps vmlite's state and reason to libvirt's.
func domainState(d DomainInfo) (libvirt.DomainState, int32) {
	switch d.Status {
	case state.Running:
		return libvirt.DomainRunning, int32(libvirt.DomainRunningBooted)
	case state.Paused:
		return libvirt.DomainPaused, int32(libvirt.DomainPausedUser)
	case state.Starting, state.Orphaned:
		return libvirt.DomainRunning, int32(libvirt.DomainRunningUnknown)
	case state.Stopping:
		return libvirt.DomainShutdown, int32(libvirt.DomainShutdownUser)
	}
	switch d.Reason {
	case state.ReasonShutdown:
		return libvirt.DomainShutoff, int32(libvirt.DomainShutoffShutdown)
	case state.ReasonDestroyed:
		return libvirt.DomainShutoff, int32(libvirt.DomainShutoffDestroyed)
	case state.ReasonCrashed:
		return libvirt.DomainShutoff, int32(libvirt.DomainShutoffCrashed)
	case state.ReasonFailed:
		return libvirt.DomainShutoff, int32(libvirt.DomainShutoffFailed)
	}
	return libvirt.DomainShutoff, int32(libvirt.DomainShutoffUnknown)
}

// matchListFlags applies virConnectListAllDomains' filter groups: within
// a group any flag matches, an empty group matches everything.
func matchListFlags(d DomainInfo, f libvirt.ConnectListAllDomainsFlags) bool {
	group := func(yes, no libvirt.ConnectListAllDomainsFlags, is bool) bool {
		if f&(yes|no) == 0 {
			return true
		}
		return (is && f&yes != 0) || (!is && f&no != 0)
	}
	st, _ := domainState(d)
	if !group(libvirt.ConnectListDomainsActive, libvirt.ConnectListDomainsInactive, d.Active()) ||
		!group(libvirt.ConnectListDomainsPersistent, libvirt.ConnectListDomainsTransient, d.Persistent) ||
		!group(libvirt.ConnectListDomainsAutostart, libvirt.ConnectListDomainsNoAutostart, d.Autostart) ||
		!group(0, libvirt.ConnectListDomainsManagedsave, false) && f&libvirt.ConnectListDomainsNoManagedsave == 0 ||
		!group(0, libvirt.ConnectListDomainsHasSnapshot, false) && f&libvirt.ConnectListDomainsNoSnapshot == 0 {
		return false
	}
	stateFlags := libvirt.ConnectListDomainsRunning | libvirt.ConnectListDomainsPaused | libvirt.ConnectListDomainsShutoff | libvirt.ConnectListDomainsOther
	if f&stateFlags != 0 {
		switch st {
		case libvirt.DomainRunning:
			return f&libvirt.ConnectListDomainsRunning != 0
		case libvirt.DomainPaused:
			return f&libvirt.ConnectListDomainsPaused != 0
		case libvirt.DomainShutoff:
			return f&libvirt.ConnectListDomainsShutoff != 0
		default:
			return f&libvirt.ConnectListDomainsOther != 0
		}
	}
	return true
}

func init() {
	b := func(c *conn) Backend { return c.s.cfg.Backend }

	reg(procConnectListAllDomains, false, func(c *conn, a *libvirt.ConnectListAllDomainsArgs) (*libvirt.ConnectListAllDomainsRet, error) {
		all, err := b(c).ListDomains()
		if err != nil {
			return nil, err
		}
		r := &libvirt.ConnectListAllDomainsRet{Domains: []libvirt.Domain{}}
		for _, d := range all {
			if matchListFlags(d, a.Flags) {
				r.Ret++
				if a.NeedResults != 0 {
					r.Domains = append(r.Domains, ref(d))
				}
			}
		}
		return r, nil
	})
	// The legacy list calls, used by clients when LIST_ALL_DOMAINS fails.
	reg(procConnectNumOfDomains, false, func(c *conn, _ *void) (*libvirt.ConnectNumOfDomainsRet, error) {
		ds, err := filtered(c, true)
		return &libvirt.ConnectNumOfDomainsRet{Num: int32(len(ds))}, err
	})
	reg(procConnectListDomains, false, func(c *conn, a *libvirt.ConnectListDomainsArgs) (*libvirt.ConnectListDomainsRet, error) {
		ds, err := filtered(c, true)
		r := &libvirt.ConnectListDomainsRet{Ids: []int32{}}
		for _, d := range ds {
			if int32(len(r.Ids)) < a.Maxids {
				r.Ids = append(r.Ids, d.ID)
			}
		}
		return r, err
	})
	reg(procConnectNumOfDefinedDomains, false, func(c *conn, _ *void) (*libvirt.ConnectNumOfDefinedDomainsRet, error) {
		ds, err := filtered(c, false)
		return &libvirt.ConnectNumOfDefinedDomainsRet{Num: int32(len(ds))}, err
	})
	reg(procConnectListDefinedDomains, false, func(c *conn, a *libvirt.ConnectListDefinedDomainsArgs) (*libvirt.ConnectListDefinedDomainsRet, error) {
		ds, err := filtered(c, false)
		r := &libvirt.ConnectListDefinedDomainsRet{Names: []string{}}
		for _, d := range ds {
			if int32(len(r.Names)) < a.Maxnames {
				r.Names = append(r.Names, d.Name)
			}
		}
		return r, err
	})

	reg(procDomainLookupByName, false, func(c *conn, a *libvirt.DomainLookupByNameArgs) (*libvirt.DomainLookupByNameRet, error) {
		d, err := b(c).LookupDomain(a.Name)
		if err != nil {
			return nil, err
		}
		return &libvirt.DomainLookupByNameRet{Dom: ref(d)}, nil
	})
	reg(procDomainLookupByUUID, false, func(c *conn, a *libvirt.DomainLookupByUUIDArgs) (*libvirt.DomainLookupByUUIDRet, error) {
		d, err := find(c, func(d DomainInfo) bool { return d.UUID == a.UUID })
		if err != nil {
			return nil, errorf(libvirt.ErrNoDomain, "Domain not found: no domain with matching uuid '%s'", uuidString(a.UUID))
		}
		return &libvirt.DomainLookupByUUIDRet{Dom: ref(d)}, nil
	})
	reg(procDomainLookupByID, false, func(c *conn, a *libvirt.DomainLookupByIDArgs) (*libvirt.DomainLookupByIDRet, error) {
		d, err := find(c, func(d DomainInfo) bool { return d.Active() && d.ID == a.ID })
		if err != nil {
			return nil, errorf(libvirt.ErrNoDomain, "Domain not found: no domain with matching id %d", a.ID)
		}
		return &libvirt.DomainLookupByIDRet{Dom: ref(d)}, nil
	})
	reg(procDomainGetState, false, func(c *conn, a *libvirt.DomainGetStateArgs) (*libvirt.DomainGetStateRet, error) {
		d, err := c.lookup(a.Dom)
		if err != nil {
			return nil, err
		}
		st, reason := domainState(d)
		return &libvirt.DomainGetStateRet{State: int32(st), Reason: reason}, nil
	})
	reg(procDomainGetInfo, false, func(c *conn, a *libvirt.DomainGetInfoArgs) (*libvirt.DomainGetInfoRet, error) {
		d, err := c.lookup(a.Dom)
		if err != nil {
			return nil, err
		}
		r, err := b(c).Resources(a.Dom.Name)
		if err != nil {
			return nil, err
		}
		st, _ := domainState(d)
		return &libvirt.DomainGetInfoRet{State: uint8(st), MaxMem: r.MaxMemKiB, Memory: r.MemoryKiB, NrVirtCPU: r.VCPUs, CPUTime: r.CPUTimeNs}, nil
	})
	reg(procDomainGetXMLDesc, false, func(c *conn, a *libvirt.DomainGetXMLDescArgs) (*libvirt.DomainGetXMLDescRet, error) {
		if _, err := c.lookup(a.Dom); err != nil {
			return nil, err
		}
		// SECURE (1) changes nothing: a vmlite domain holds no secrets.
		x, err := b(c).DomainXML(a.Dom.Name, a.Flags&libvirt.DomainXMLInactive != 0)
		if err != nil {
			return nil, err
		}
		return &libvirt.DomainGetXMLDescRet{XML: string(x)}, nil
	})
	reg(procDomainGetOsType, false, func(c *conn, a *libvirt.DomainGetOsTypeArgs) (*libvirt.DomainGetOsTypeRet, error) {
		if _, err := c.lookup(a.Dom); err != nil {
			return nil, err
		}
		return &libvirt.DomainGetOsTypeRet{Type: "exe"}, nil
	})
	reg(procDomainIsActive, false, func(c *conn, a *libvirt.DomainIsActiveArgs) (*libvirt.DomainIsActiveRet, error) {
		d, err := c.lookup(a.Dom)
		return &libvirt.DomainIsActiveRet{Active: boolInt(d.Active())}, err
	})
	reg(procDomainIsPersistent, false, func(c *conn, a *libvirt.DomainIsPersistentArgs) (*libvirt.DomainIsPersistentRet, error) {
		d, err := c.lookup(a.Dom)
		return &libvirt.DomainIsPersistentRet{Persistent: boolInt(d.Persistent)}, err
	})
	reg(procDomainGetAutostart, false, func(c *conn, a *libvirt.DomainGetAutostartArgs) (*libvirt.DomainGetAutostartRet, error) {
		d, err := c.lookup(a.Dom)
		return &libvirt.DomainGetAutostartRet{Autostart: boolInt(d.Autostart)}, err
	})
	reg(procDomainSetAutostart, true, func(c *conn, a *libvirt.DomainSetAutostartArgs) (*void, error) {
		if _, err := c.lookup(a.Dom); err != nil {
			return nil, err
		}
		return nil, b(c).SetAutostart(a.Dom.Name, a.Autostart != 0)
	})
	// No managed save, snapshots, security labels or messages for a
	// container: the empty answers virsh expects, not errors.
	reg(procDomainHasManagedSaveImage, false, func(c *conn, a *libvirt.DomainHasManagedSaveImageArgs) (*libvirt.DomainHasManagedSaveImageRet, error) {
		_, err := c.lookup(a.Dom)
		return &libvirt.DomainHasManagedSaveImageRet{}, err
	})
	reg(procDomainSnapshotNum, false, func(c *conn, a *libvirt.DomainSnapshotNumArgs) (*libvirt.DomainSnapshotNumRet, error) {
		_, err := c.lookup(a.Dom)
		return &libvirt.DomainSnapshotNumRet{}, err
	})
	reg(procDomainListAllSnapshots, false, func(c *conn, a *libvirt.DomainListAllSnapshotsArgs) (*libvirt.DomainListAllSnapshotsRet, error) {
		_, err := c.lookup(a.Dom)
		return &libvirt.DomainListAllSnapshotsRet{Snapshots: []libvirt.DomainSnapshot{}}, err
	})
	reg(procDomainGetSecurityLabel, false, func(c *conn, a *libvirt.DomainGetSecurityLabelArgs) (*libvirt.DomainGetSecurityLabelRet, error) {
		_, err := c.lookup(a.Dom)
		return &libvirt.DomainGetSecurityLabelRet{Label: []int8{}}, err
	})
	reg(procDomainGetMessages, false, func(c *conn, a *libvirt.DomainGetMessagesArgs) (*libvirt.DomainGetMessagesRet, error) {
		_, err := c.lookup(a.Dom)
		return &libvirt.DomainGetMessagesRet{Msgs: []string{}}, err
	})
	reg(procDomainGetHostname, false, func(c *conn, a *libvirt.DomainGetHostnameArgs) (*libvirt.DomainGetHostnameRet, error) {
		if err := c.requireActive(a.Dom); err != nil {
			return nil, err
		}
		h, err := b(c).Hostname(a.Dom.Name)
		return &libvirt.DomainGetHostnameRet{Hostname: h}, err
	})
	reg(procDomainInterfaceAddresses, false, func(c *conn, a *libvirt.DomainInterfaceAddressesArgs) (*libvirt.DomainInterfaceAddressesRet, error) {
		if a.Flags != 0 {
			return nil, errorf(libvirt.ErrInvalidArg, "invalid argument: unsupported flags (0x%x) in DOMAIN_INTERFACE_ADDRESSES", a.Flags)
		}
		if err := c.requireActive(a.Dom); err != nil {
			return nil, err
		}
		// The addresses vmlite gave the guest's interfaces answer both of
		// the LXC driver's sources (LEASE, ARP); there is no guest agent.
		if a.Source != uint32(libvirt.DomainInterfaceAddressesSrcLease) && a.Source != uint32(libvirt.DomainInterfaceAddressesSrcArp) {
			return nil, errorf(libvirt.ErrArgumentUnsupported, "argument unsupported: Unknown IP address data source %d (LXC guests have no agent: use lease or arp)", a.Source)
		}
		ifs, err := b(c).Addresses(a.Dom.Name)
		if err != nil {
			return nil, err
		}
		r := &libvirt.DomainInterfaceAddressesRet{Ifaces: []libvirt.DomainInterface{}}
		for _, i := range ifs {
			di := libvirt.DomainInterface{Name: i.Name, Addrs: []libvirt.DomainIPAddr{}}
			if i.MAC != "" {
				di.Hwaddr = libvirt.OptString{i.MAC}
			}
			for _, ad := range i.Addrs {
				t := int32(libvirt.IPAddrTypeIpv4)
				if ad.V6 {
					t = int32(libvirt.IPAddrTypeIpv6)
				}
				di.Addrs = append(di.Addrs, libvirt.DomainIPAddr{Type: t, Addr: ad.Addr, Prefix: ad.Prefix})
			}
			r.Ifaces = append(r.Ifaces, di)
		}
		return r, nil
	})

	// Lifecycle.
	reg(procDomainDefineXML, true, func(c *conn, a *libvirt.DomainDefineXMLArgs) (*libvirt.DomainDefineXMLRet, error) {
		d, err := b(c).Define([]byte(a.XML))
		return &libvirt.DomainDefineXMLRet{Dom: ref(d)}, err
	})
	reg(procDomainDefineXMLFlags, true, func(c *conn, a *libvirt.DomainDefineXMLFlagsArgs) (*libvirt.DomainDefineXMLFlagsRet, error) {
		// VALIDATE (1): vmlite always validates against its schema.
		d, err := b(c).Define([]byte(a.XML))
		return &libvirt.DomainDefineXMLFlagsRet{Dom: ref(d)}, err
	})
	undefine := func(c *conn, dom libvirt.Domain) error {
		d, err := c.lookup(dom)
		if err != nil {
			return err
		}
		if !d.Persistent {
			return errorf(libvirt.ErrOperationInvalid, "Requested operation is not valid: cannot undefine transient domain")
		}
		return b(c).Undefine(dom.Name)
	}
	reg(procDomainUndefine, true, func(c *conn, a *libvirt.DomainUndefineArgs) (*void, error) { return nil, undefine(c, a.Dom) })
	// Every undefine flag is accepted: NVRAM, TPM, managed save and
	// snapshot metadata do not exist for a container, and Terraform's
	// provider and Nova send them (libvirt-lxc's refusal breaks the former).
	reg(procDomainUndefineFlags, true, func(c *conn, a *libvirt.DomainUndefineFlagsArgs) (*void, error) { return nil, undefine(c, a.Dom) })

	reg(procDomainCreate, true, func(c *conn, a *libvirt.DomainCreateArgs) (*void, error) {
		return nil, c.start(a.Dom, 0)
	})
	reg(procDomainCreateWithFlags, true, func(c *conn, a *libvirt.DomainCreateWithFlagsArgs) (*libvirt.DomainCreateWithFlagsRet, error) {
		if err := c.start(a.Dom, a.Flags); err != nil {
			return nil, err
		}
		d, err := c.s.cfg.Backend.LookupDomain(a.Dom.Name)
		return &libvirt.DomainCreateWithFlagsRet{Dom: ref(d)}, err
	})
	reg(procDomainCreateXML, true, func(c *conn, a *libvirt.DomainCreateXMLArgs) (*libvirt.DomainCreateXMLRet, error) {
		if a.Flags&libvirt.DomainStartPaused != 0 {
			return nil, errNoSupport("virDomainCreateXML with VIR_DOMAIN_START_PAUSED (containers are not paused at boot)")
		}
		d, err := b(c).Create([]byte(a.XMLDesc))
		return &libvirt.DomainCreateXMLRet{Dom: ref(d)}, err
	})
	reg(procDomainShutdown, true, func(c *conn, a *libvirt.DomainShutdownArgs) (*void, error) {
		return nil, c.running(a.Dom, b(c).Shutdown)
	})
	reg(procDomainShutdownFlags, true, func(c *conn, a *libvirt.DomainShutdownFlagsArgs) (*void, error) {
		// Every mode (initctl, signal, default) is the init's own poweroff
		// signal: that is what both of libvirt-lxc's modes amount to.
		return nil, c.running(a.Dom, b(c).Shutdown)
	})
	// Suspend and resume freeze and thaw the guest's cgroup, as
	// libvirt-lxc does; suspending a paused guest does nothing there too.
	reg(procDomainSuspend, true, func(c *conn, a *libvirt.DomainSuspendArgs) (*void, error) {
		d, err := c.lookup(a.Dom)
		if err != nil {
			return nil, err
		}
		if !d.Active() {
			return nil, errorf(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is not running")
		}
		if d.Status == state.Paused {
			return nil, nil
		}
		return nil, b(c).Suspend(a.Dom.Name)
	})
	reg(procDomainResume, true, func(c *conn, a *libvirt.DomainResumeArgs) (*void, error) {
		d, err := c.lookup(a.Dom)
		if err != nil {
			return nil, err
		}
		if !d.Active() {
			return nil, errorf(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is not running")
		}
		if d.Status != state.Paused { // libvirt's words (lxcDomainResume)
			return nil, errorf(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is already running")
		}
		return nil, b(c).Resume(a.Dom.Name)
	})
	reg(procDomainReboot, true, func(c *conn, a *libvirt.DomainRebootArgs) (*void, error) {
		return nil, c.running(a.Dom, b(c).Reboot)
	})
	reg(procDomainDestroy, true, func(c *conn, a *libvirt.DomainDestroyArgs) (*void, error) {
		return nil, c.running(a.Dom, b(c).Destroy)
	})
	reg(procDomainDestroyFlags, true, func(c *conn, a *libvirt.DomainDestroyFlagsArgs) (*void, error) {
		return nil, c.running(a.Dom, b(c).Destroy)
	})
	reg(procDomainSetMemoryFlags, true, func(c *conn, a *libvirt.DomainSetMemoryFlagsArgs) (*void, error) {
		if _, err := c.lookup(a.Dom); err != nil {
			return nil, err
		}
		affect, err := c.affectFor(a.Dom, a.Flags, uint32(libvirt.DomainMemMaximum))
		if err != nil {
			return nil, err
		}
		if a.Flags&uint32(libvirt.DomainMemMaximum) != 0 { // virsh setmaxmem
			return nil, b(c).SetMaxMemory(a.Dom.Name, a.Memory, affect)
		}
		return nil, b(c).SetMemory(a.Dom.Name, a.Memory, affect)
	})
	reg(procDomainGetVcpus, false, func(c *conn, a *libvirt.DomainGetVcpusArgs) (*libvirt.DomainGetVcpusRet, error) {
		return nil, errNoSupport("virDomainGetVcpus (a container has no virtual CPUs)")
	})
}

// affectOf reads the VIR_DOMAIN_AFFECT_* bits of a call's flags (the
// service takes libvirt's values); a flag that is neither one of them nor
// in other is refused, as libvirt's virCheckFlags does.
func affectOf(flags, other uint32) (service.Affect, error) {
	const known = uint32(libvirt.DomainAffectLive | libvirt.DomainAffectConfig)
	if unknown := flags &^ (known | other); unknown != 0 {
		return 0, errorf(libvirt.ErrInvalidArg, "invalid argument: unsupported flags (0x%x)", unknown)
	}
	return service.Affect(flags & known), nil
}

// affectFor is affectOf for a call on dom: AFFECT_LIVE of a domain that
// does not run is libvirt's OPERATION_INVALID "domain is not running"
// (virDomainObjUpdateModificationImpact), before anything is read or
// changed.
func (c *conn) affectFor(dom libvirt.Domain, flags, other uint32) (service.Affect, error) {
	affect, err := affectOf(flags, other)
	if err != nil {
		return 0, err
	}
	if affect&service.AffectLive != 0 {
		if err := c.requireActive(dom); err != nil {
			return 0, err
		}
	}
	return affect, nil
}

func (c *conn) start(dom libvirt.Domain, flags uint32) error {
	d, err := c.lookup(dom)
	if err != nil {
		return err
	}
	if flags&1 != 0 { // VIR_DOMAIN_START_PAUSED
		return errNoSupport("virDomainCreateWithFlags with VIR_DOMAIN_START_PAUSED")
	}
	if d.Active() {
		return errorf(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is already running")
	}
	return c.s.cfg.Backend.Start(dom.Name)
}

// running runs op on a running domain; anything else is libvirt's
// OPERATION_INVALID "domain is not running".
func (c *conn) running(dom libvirt.Domain, op func(string) error) error {
	if err := c.requireActive(dom); err != nil {
		return err
	}
	return op(dom.Name)
}

func (c *conn) requireActive(dom libvirt.Domain) error {
	d, err := c.lookup(dom)
	if err != nil {
		return err
	}
	if !d.Active() {
		return errorf(libvirt.ErrOperationInvalid, "Requested operation is not valid: domain is not running")
	}
	return nil
}

func find(c *conn, match func(DomainInfo) bool) (DomainInfo, error) {
	all, err := c.s.cfg.Backend.ListDomains()
	if err != nil {
		return DomainInfo{}, err
	}
	for _, d := range all {
		if match(d) {
			return d, nil
		}
	}
	return DomainInfo{}, errorf(libvirt.ErrNoDomain, "Domain not found")
}

func filtered(c *conn, active bool) ([]DomainInfo, error) {
	all, err := c.s.cfg.Backend.ListDomains()
	var out []DomainInfo
	for _, d := range all {
		if d.Active() == active && (active || d.Persistent) {
			out = append(out, d)
		}
	}
	return out, err
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
