package libvirtrpc

import (
	"fmt"
	"strconv"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"vmlite/plan"
	"vmlite/service"
)

// The tuning procedures: memtune, schedinfo and blkiotune as libvirt's LXC
// driver answers them (the same parameter names, types and counts), on
// the service's MemoryTune, SchedInfo and BlkioTune, which vmlite memtune
// and schedinfo call too.

// Parameter names (libvirt-domain.h VIR_DOMAIN_MEMORY_*, _SCHEDULER_*,
// _BLKIO_*).
const (
	paramHardLimit     = "hard_limit"
	paramSoftLimit     = "soft_limit"
	paramSwapHardLimit = "swap_hard_limit"
	paramCPUShares     = "cpu_shares"
	paramVCPUPeriod    = "vcpu_period"
	paramVCPUQuota     = "vcpu_quota"
	paramBlkioWeight   = "weight"
	paramDevWeight     = "device_weight"
	paramDevReadIops   = "device_read_iops_sec"
	paramDevWriteIops  = "device_write_iops_sec"
	paramDevReadBps    = "device_read_bytes_sec"
	paramDevWriteBps   = "device_write_bytes_sec"
)

var (
	memorySpecs = []paramSpec{{paramHardLimit, libvirt.TypedParamUllong}, {paramSoftLimit, libvirt.TypedParamUllong},
		{paramSwapHardLimit, libvirt.TypedParamUllong}}
	schedSpecs = []paramSpec{{paramCPUShares, libvirt.TypedParamUllong}, {paramVCPUPeriod, libvirt.TypedParamUllong},
		{paramVCPUQuota, libvirt.TypedParamLlong}}
	blkioSpecs = []paramSpec{{paramBlkioWeight, libvirt.TypedParamUint}, {paramDevWeight, libvirt.TypedParamString},
		{paramDevReadIops, libvirt.TypedParamString}, {paramDevWriteIops, libvirt.TypedParamString},
		{paramDevReadBps, libvirt.TypedParamString}, {paramDevWriteBps, libvirt.TypedParamString}}
)

// memoryUnlimited is VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, in KiB: no limit.
const memoryUnlimited = uint64(libvirt.DomainMemoryParamUnlimited)

// getFlags is the affect part of a GET_*_PARAMETERS call's flags, which
// may also say the caller reads strings.
func (c *conn) getFlags(dom libvirt.Domain, flags uint32) (service.Affect, error) {
	return c.affectFor(dom, flags, uint32(libvirt.TypedParamStringOkay))
}

// regTypedSet registers a procedure whose arguments hold typed parameters.
func regTypedSet(proc int32, withFlags bool, fn func(c *conn, a *typedParamsArgs) error) {
	if _, dup := handlers[proc]; dup {
		panic(fmt.Sprintf("libvirtrpc: procedure %d registered twice", proc))
	}
	handlers[proc] = handler{write: true, fn: func(c *conn, _ Header, body []byte) ([]byte, func(), error) {
		a, err := decodeTypedParamsArgs(body, withFlags)
		if err != nil {
			return nil, nil, errRPC("procedure %d: %v", proc, err)
		}
		return nil, nil, fn(c, &a)
	}}
}

// tuneErr names the parameters of a call the service refused as
// impossible (InvalidArg): its message names the limit, this the fields
// and values the client sent.
func tuneErr(err error, params []libvirt.TypedParam) error {
	if err == nil || service.CodeOf(err) != service.InvalidArg {
		return err
	}
	var given []string
	for _, p := range params {
		given = append(given, fmt.Sprintf("%s=%v", p.Field, p.Value.I))
	}
	return errorf(libvirt.ErrInvalidArg, "invalid argument: %s: %v", strings.Join(given, " "), err)
}

func init() {
	b := func(c *conn) Backend { return c.s.cfg.Backend }

	// Memory.
	reg(procDomainGetMemoryParameters, false, func(c *conn, a *libvirt.DomainGetMemoryParametersArgs) (*libvirt.DomainGetMemoryParametersRet, error) {
		if _, err := c.lookup(a.Dom); err != nil {
			return nil, err
		}
		affect, err := c.getFlags(a.Dom, a.Flags)
		if err != nil {
			return nil, err
		}
		if a.Nparams == 0 { // how many there are
			return &libvirt.DomainGetMemoryParametersRet{Params: []libvirt.TypedParam{}, Nparams: int32(len(memorySpecs))}, nil
		}
		m, err := b(c).MemoryTune(a.Dom.Name, service.MemoryChange{}, affect)
		if err != nil {
			return nil, err
		}
		kib := func(bytes uint64) uint64 {
			if bytes == 0 {
				return memoryUnlimited
			}
			return bytes / 1024
		}
		ps := replyParams([]libvirt.TypedParam{ullongParam(paramHardLimit, kib(m.Hard)), ullongParam(paramSoftLimit, kib(m.Soft)),
			ullongParam(paramSwapHardLimit, kib(m.SwapHard))}, a.Nparams, a.Flags)
		return &libvirt.DomainGetMemoryParametersRet{Params: ps, Nparams: int32(len(ps))}, nil
	})
	regTypedSet(procDomainSetMemoryParameters, true, func(c *conn, a *typedParamsArgs) error {
		if _, err := c.lookup(a.Dom); err != nil {
			return err
		}
		affect, err := c.affectFor(a.Dom, a.Flags, 0)
		if err != nil {
			return err
		}
		if err := validateParams(a.Params, memorySpecs); err != nil {
			return err
		}
		var change service.MemoryChange
		for _, p := range a.Params {
			v := p.Value.I.(uint64)
			var bytes uint64 // 0: no limit
			switch {
			case v >= memoryUnlimited:
			case v == 0 && p.Field != paramSoftLimit:
				return errorf(libvirt.ErrInvalidArg, "invalid argument: parameter '%s' of 0 KiB: the guest could not run; %d is unlimited", p.Field, memoryUnlimited)
			default:
				bytes = v * 1024
			}
			switch p.Field {
			case paramHardLimit:
				change.Hard = &bytes
			case paramSoftLimit:
				change.Soft = &bytes
			case paramSwapHardLimit:
				change.SwapHard = &bytes
			}
		}
		if change == (service.MemoryChange{}) {
			return nil
		}
		_, err = b(c).MemoryTune(a.Dom.Name, change, affect)
		return tuneErr(err, a.Params)
	})

	// Scheduler.
	reg(procDomainGetSchedulerType, false, func(c *conn, a *libvirt.DomainGetSchedulerTypeArgs) (*libvirt.DomainGetSchedulerTypeRet, error) {
		if _, err := c.lookup(a.Dom); err != nil {
			return nil, err
		}
		return &libvirt.DomainGetSchedulerTypeRet{Type: "posix", Nparams: int32(len(schedSpecs))}, nil
	})
	getSched := func(c *conn, dom libvirt.Domain, nparams int32, flags uint32) ([]libvirt.TypedParam, error) {
		if _, err := c.lookup(dom); err != nil {
			return nil, err
		}
		affect, err := c.getFlags(dom, flags)
		if err != nil {
			return nil, err
		}
		sc, err := b(c).SchedInfo(dom.Name, service.SchedChange{}, affect)
		if err != nil {
			return nil, err
		}
		return replyParams([]libvirt.TypedParam{ullongParam(paramCPUShares, sc.Shares), ullongParam(paramVCPUPeriod, sc.PeriodUS),
			llongParam(paramVCPUQuota, sc.QuotaUS)}, nparams, flags), nil
	}
	reg(procDomainGetSchedulerParameters, false, func(c *conn, a *libvirt.DomainGetSchedulerParametersArgs) (*libvirt.DomainGetSchedulerParametersRet, error) {
		ps, err := getSched(c, a.Dom, a.Nparams, 0)
		return &libvirt.DomainGetSchedulerParametersRet{Params: ps}, err
	})
	reg(procDomainGetSchedulerParametersFlags, false, func(c *conn, a *libvirt.DomainGetSchedulerParametersFlagsArgs) (*libvirt.DomainGetSchedulerParametersFlagsRet, error) {
		ps, err := getSched(c, a.Dom, a.Nparams, a.Flags)
		return &libvirt.DomainGetSchedulerParametersFlagsRet{Params: ps}, err
	})
	setSched := func(c *conn, a *typedParamsArgs) error {
		if _, err := c.lookup(a.Dom); err != nil {
			return err
		}
		affect, err := c.affectFor(a.Dom, a.Flags, 0)
		if err != nil {
			return err
		}
		if err := validateParams(a.Params, schedSpecs); err != nil {
			return err
		}
		var change service.SchedChange
		for _, p := range a.Params {
			switch p.Field {
			case paramCPUShares:
				v := p.Value.I.(uint64)
				change.Shares = &v
			case paramVCPUPeriod:
				// 0 leaves the period as it is, as in libvirt.
				if v := p.Value.I.(uint64); v != 0 {
					change.PeriodUS = &v
				}
			case paramVCPUQuota:
				if v := p.Value.I.(int64); v != 0 {
					change.QuotaUS = &v
				}
			}
		}
		if change == (service.SchedChange{}) {
			return nil
		}
		_, err = b(c).SchedInfo(a.Dom.Name, change, affect)
		return tuneErr(err, a.Params)
	}
	regTypedSet(procDomainSetSchedulerParameters, false, setSched)
	regTypedSet(procDomainSetSchedulerParametersFlags, true, setSched)

	// Block I/O.
	reg(procDomainGetBlkioParameters, false, func(c *conn, a *libvirt.DomainGetBlkioParametersArgs) (*libvirt.DomainGetBlkioParametersRet, error) {
		if _, err := c.lookup(a.Dom); err != nil {
			return nil, err
		}
		affect, err := c.getFlags(a.Dom, a.Flags)
		if err != nil {
			return nil, err
		}
		if a.Nparams == 0 {
			return &libvirt.DomainGetBlkioParametersRet{Params: []libvirt.TypedParam{}, Nparams: int32(len(blkioSpecs))}, nil
		}
		bl, err := b(c).BlkioTune(a.Dom.Name, service.BlkioChange{}, affect)
		if err != nil {
			return nil, err
		}
		list := func(v func(plan.BlkioDevice) uint64) string {
			var parts []string
			for _, d := range bl.Devices {
				if n := v(d); n != 0 {
					parts = append(parts, d.Path, strconv.FormatUint(n, 10))
				}
			}
			return strings.Join(parts, ",")
		}
		ps := replyParams([]libvirt.TypedParam{
			uintParam(paramBlkioWeight, uint32(bl.Weight)),
			stringParam(paramDevWeight, list(func(d plan.BlkioDevice) uint64 { return d.Weight })),
			stringParam(paramDevReadIops, list(func(d plan.BlkioDevice) uint64 { return d.ReadIops })),
			stringParam(paramDevWriteIops, list(func(d plan.BlkioDevice) uint64 { return d.WriteIops })),
			stringParam(paramDevReadBps, list(func(d plan.BlkioDevice) uint64 { return d.ReadBps })),
			stringParam(paramDevWriteBps, list(func(d plan.BlkioDevice) uint64 { return d.WriteBps })),
		}, a.Nparams, a.Flags)
		return &libvirt.DomainGetBlkioParametersRet{Params: ps, Nparams: int32(len(ps))}, nil
	})
	regTypedSet(procDomainSetBlkioParameters, true, func(c *conn, a *typedParamsArgs) error {
		if _, err := c.lookup(a.Dom); err != nil {
			return err
		}
		affect, err := c.affectFor(a.Dom, a.Flags, 0)
		if err != nil {
			return err
		}
		if err := validateParams(a.Params, blkioSpecs); err != nil {
			return err
		}
		change, err := blkioChange(a.Params)
		if err != nil {
			return err
		}
		_, err = b(c).BlkioTune(a.Dom.Name, change, affect)
		return tuneErr(err, a.Params)
	})
}

// blkioChange reads SET_BLKIO_PARAMETERS' values: the weight, and each
// device_* string as libvirt writes it, "PATH,VALUE[,PATH,VALUE...]".
func blkioChange(params []libvirt.TypedParam) (service.BlkioChange, error) {
	var change service.BlkioChange
	for _, p := range params {
		if p.Field == paramBlkioWeight {
			v := uint64(p.Value.I.(uint32))
			change.Weight = &v
			continue
		}
		dvs, err := service.ParseDeviceValues(p.Value.I.(string))
		if err != nil {
			return change, errorf(libvirt.ErrInvalidArg, "invalid argument: parameter '%s': %v", p.Field, err)
		}
		for _, dv := range dvs {
			v, d := dv.Value, change.Device(dv.Path)
			switch p.Field {
			case paramDevWeight:
				d.Weight = &v
			case paramDevReadIops:
				d.ReadIops = &v
			case paramDevWriteIops:
				d.WriteIops = &v
			case paramDevReadBps:
				d.ReadBps = &v
			case paramDevWriteBps:
				d.WriteBps = &v
			}
		}
	}
	return change, nil
}
