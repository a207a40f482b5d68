package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"libvirt.org/go/libvirtxml"

	"vmlite/cgroup"
	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
)

// Affect says what a tuning operation changes, as libvirt's
// VIR_DOMAIN_AFFECT_* flags do (same values): the running guest, the
// stored definition for the next start, or both; AffectCurrent (0) is the
// running guest if it runs, else the definition.
type Affect uint

// Affect flags.
const (
	AffectCurrent Affect = 0
	AffectLive    Affect = 1
	AffectConfig  Affect = 2
)

// Memory limits in bytes; 0 is no limit.
type Memory struct {
	Hard, Soft, SwapHard uint64
}

// MemoryChange names the limits to change (nil: leave it); 0 removes one.
type MemoryChange struct {
	Hard, Soft, SwapHard *uint64
}

func (c MemoryChange) empty() bool { return c.Hard == nil && c.Soft == nil && c.SwapHard == nil }

// Sched is a guest's CPU scheduler parameters as the kernel applies them:
// shares (default 1024), the CFS period in µs (default 100000) and the
// quota per period in µs (-1: none).
type Sched struct {
	Shares   uint64
	PeriodUS uint64
	QuotaUS  int64
}

// SchedChange names the parameters to change (nil: leave it). A negative
// quota is no limit.
type SchedChange struct {
	Shares, PeriodUS *uint64
	QuotaUS          *int64
}

func (c SchedChange) empty() bool { return c.Shares == nil && c.PeriodUS == nil && c.QuotaUS == nil }

// Warnings are what an operation could not do but did not fail for
// (limits the host cannot enforce, a setting that still wins later).
type Warnings []string

// SetMemory sets the memory limit of guest name to size bytes (setmem): a
// running guest's cgroup at once, the stored <currentMemory> for the next
// start, or both. It may not exceed <memory>, nor a running guest's
// swap_hard_limit.
func (s *Service) SetMemory(ctx context.Context, name string, size uint64, affect Affect) (Warnings, error) {
	ws, err := s.setMemory(ctx, name, size, affect)
	return ws, classify(onDomain, err)
}

func (s *Service) setMemory(ctx context.Context, name string, size uint64, affect Affect) (Warnings, error) {
	if size < 1<<20 {
		return nil, fmt.Errorf("%w: memory size %d bytes: at least 1 MiB", errdefs.ErrInvalid, size)
	}
	run, stored, err := s.targets(name, affect)
	if err != nil {
		return nil, err
	}
	if err := live(ctx); err != nil {
		return nil, err
	}
	var ws Warnings
	if stored != nil {
		x := stored.x()
		if max, _ := domain.MaxMemory(x); max > 0 && size > max { // validated when stored
			return nil, fmt.Errorf("%w: guest %q: %s is above its maximum memory <memory> of %s in the stored definition",
				errdefs.ErrInvalid, name, cgroup.FormatBytes(size), cgroup.FormatBytes(max))
		}
		domain.SetCurrentMemory(x, size)
		if err := stored.check(); err != nil {
			return nil, err
		}
		if mt := storedMemtune(x); mt.MemoryBytes != 0 {
			ws = append(ws, fmt.Sprintf("guest %q: the stored <memtune><hard_limit> of %s still sets the limit at the next start",
				name, cgroup.FormatBytes(mt.MemoryBytes)))
		}
	}
	if run != nil {
		if max := maxMemory(run.plan.DomainXML); max > 0 && size > max {
			return ws, fmt.Errorf("%w: guest %q: %s is above its maximum memory <memory> of %s", errdefs.ErrInvalid, name,
				cgroup.FormatBytes(size), cgroup.FormatBytes(max))
		}
		l := run.limits
		l.MemoryBytes = size
		if l.SwapBytes > 0 && l.SwapBytes < size {
			return ws, fmt.Errorf("%w: guest %q: %s is above its swap_hard_limit (memory+swap) of %s; raise that first with vmlite memtune --swap-hard-limit",
				errdefs.ErrInvalid, name, cgroup.FormatBytes(size), cgroup.FormatBytes(l.SwapBytes))
		}
		w, err := run.set(l)
		ws = append(ws, w...)
		if err != nil {
			return ws, err
		}
	}
	if stored != nil {
		return ws, stored.save()
	}
	return ws, nil
}

// SetMaxMemory sets the maximum memory, <memory>, of guest name's stored
// definition to size bytes (virsh setmaxmem), lowering <currentMemory>
// to it when above. As in libvirt's LXC driver, a running guest's maximum
// does not change: AffectLive, or AffectCurrent on a running guest, is
// OperationInvalid.
func (s *Service) SetMaxMemory(ctx context.Context, name string, size uint64, affect Affect) error {
	return classify(onDomain, s.setMaxMemory(ctx, name, size, affect))
}

func (s *Service) setMaxMemory(ctx context.Context, name string, size uint64, affect Affect) error {
	if size < 1<<20 {
		return fmt.Errorf("%w: maximum memory %d bytes: at least 1 MiB", errdefs.ErrInvalid, size)
	}
	run, stored, err := s.targets(name, affect)
	if err != nil {
		return err
	}
	if run != nil {
		return &Error{Code: OperationInvalid, Err: fmt.Errorf("%w: guest %q runs: cannot resize the max memory on an active domain; fix: --config changes it for the next start",
			errdefs.ErrInvalid, name)}
	}
	if err := live(ctx); err != nil {
		return err
	}
	x := stored.x()
	x.Memory = &libvirtxml.DomainMemory{Value: uint(size / 1024), Unit: "KiB"}
	if x.CurrentMemory != nil {
		if cur, err := domain.ScaledBytes(uint64(x.CurrentMemory.Value), x.CurrentMemory.Unit); err == nil && cur > size {
			domain.SetCurrentMemory(x, size)
		}
	}
	return stored.save()
}

// MemoryTune shows or changes the memory limits of guest name (memtune):
// with an empty change it returns them, as libvirt reads them: the
// stored <memtune> for AffectConfig, else the running guest's cgroup
// (what the kernel applies, whoever wrote it); otherwise it changes the
// named ones where affect says and returns the result.
func (s *Service) MemoryTune(ctx context.Context, name string, change MemoryChange, affect Affect) (Memory, Warnings, error) {
	m, ws, err := s.memoryTune(ctx, name, change, affect)
	return m, ws, classify(onDomain, err)
}

func (s *Service) memoryTune(ctx context.Context, name string, change MemoryChange, affect Affect) (Memory, Warnings, error) {
	run, stored, err := s.targets(name, affect)
	if err != nil {
		return Memory{}, nil, err
	}
	if change.empty() {
		if stored != nil {
			return memoryOf(storedMemtune(stored.x())), nil, nil
		}
		l, err := run.tuning()
		return memoryOf(l), nil, err
	}
	if err := live(ctx); err != nil {
		return Memory{}, nil, err
	}
	apply := func(l *plan.Limits) {
		for _, f := range []struct {
			v   *uint64
			dst *uint64
		}{{change.Hard, &l.MemoryBytes}, {change.Soft, &l.MemorySoftBytes}, {change.SwapHard, &l.SwapBytes}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
	}
	var shown plan.Limits
	if stored != nil {
		x := stored.x()
		l := storedMemtune(x)
		apply(&l)
		domain.SetMemtune(x, l)
		if err := stored.check(); err != nil {
			return Memory{}, nil, err
		}
		shown = l
	}
	var ws Warnings
	if run != nil {
		l := run.limits
		apply(&l)
		if err := cgroup.ValidateLimits(l); err != nil {
			return Memory{}, nil, err
		}
		w, err := run.set(l)
		ws = w
		if err != nil {
			return Memory{}, ws, err
		}
		shown = l
	}
	if stored != nil {
		if err := stored.save(); err != nil {
			return Memory{}, ws, err
		}
	}
	return memoryOf(shown), ws, nil
}

func memoryOf(l plan.Limits) Memory {
	return Memory{Hard: l.MemoryBytes, Soft: l.MemorySoftBytes, SwapHard: l.SwapBytes}
}

// SchedInfo shows or changes the CPU scheduler parameters of guest name
// (schedinfo), as MemoryTune does for memory (a running guest's read from
// its cgroup); it returns them as applied.
func (s *Service) SchedInfo(ctx context.Context, name string, change SchedChange, affect Affect) (Sched, Warnings, error) {
	sc, ws, err := s.schedInfo(ctx, name, change, affect)
	return sc, ws, classify(onDomain, err)
}

func (s *Service) schedInfo(ctx context.Context, name string, change SchedChange, affect Affect) (Sched, Warnings, error) {
	run, stored, err := s.targets(name, affect)
	if err != nil {
		return Sched{}, nil, err
	}
	if change.empty() {
		if stored != nil {
			return schedOf(domain.Cputune(stored.x())), nil, nil
		}
		l, err := run.tuning()
		return schedOf(l), nil, err
	}
	if err := live(ctx); err != nil {
		return Sched{}, nil, err
	}
	apply := func(l plan.Limits) plan.Limits {
		if change.Shares != nil {
			l.CPUShares = *change.Shares
		}
		if change.PeriodUS != nil {
			l.CPUPeriodUS = *change.PeriodUS
		}
		if change.QuotaUS != nil {
			l.CPUQuotaUS = max(*change.QuotaUS, -1) // libvirt's -1 (any negative): no limit
		}
		return l
	}
	var shown plan.Limits
	if stored != nil {
		x := stored.x()
		l := apply(domain.Cputune(x))
		domain.SetCputune(x, l)
		if err := stored.check(); err != nil {
			return Sched{}, nil, err
		}
		shown = l
	}
	var ws Warnings
	if run != nil {
		l := apply(run.limits)
		if err := cgroup.ValidateLimits(l); err != nil {
			return Sched{}, nil, err
		}
		w, err := run.set(l)
		ws = w
		if err != nil {
			return Sched{}, ws, err
		}
		shown = l
	}
	if stored != nil {
		if err := stored.save(); err != nil {
			return Sched{}, ws, err
		}
	}
	return schedOf(shown), ws, nil
}

// schedOf is what the kernel applies, defaults included.
func schedOf(l plan.Limits) Sched {
	sc := Sched{Shares: l.CPUShares, PeriodUS: l.CPUPeriodUS, QuotaUS: l.CPUQuotaUS}
	if sc.Shares == 0 {
		sc.Shares = 1024
	}
	if sc.PeriodUS == 0 {
		sc.PeriodUS = 100000
	}
	if sc.QuotaUS <= 0 {
		sc.QuotaUS = -1
	}
	return sc
}

// targets returns what to read or change for guest name: the running
// guest, the stored definition, or both.
func (s *Service) targets(name string, affect Affect) (run *runningGuest, stored *storedGuest, err error) {
	if err := validName(name); err != nil {
		return nil, nil, err
	}
	if affect&^(AffectLive|AffectConfig) != 0 {
		return nil, nil, fmt.Errorf("%w: unknown affect flags %#x", errdefs.ErrInvalid, uint(affect))
	}
	if affect == AffectCurrent {
		run, err = s.loadRunning(name)
		if err == nil {
			return run, nil, nil
		}
		if !errors.Is(err, errdefs.ErrNotRunning) {
			return nil, nil, err
		}
		stored, err = s.loadStored(name)
		if errors.Is(err, errdefs.ErrNotFound) {
			return nil, nil, fmt.Errorf("guest %q neither runs nor is defined: %w", name, errdefs.ErrNotFound)
		}
		return nil, stored, err
	}
	if affect&AffectLive != 0 {
		if run, err = s.loadRunning(name); err != nil {
			return nil, nil, err
		}
	}
	if affect&AffectConfig != 0 {
		if stored, err = s.loadStored(name); err != nil {
			return nil, nil, s.noStoredConfig(name, err)
		}
	}
	return run, stored, nil
}

// noStoredConfig is the error of a change to the stored definition
// (AffectConfig) of a guest that has none: for a transient guest, one
// that runs, libvirt's OPERATION_INVALID "transient domains do not have
// any persistent config" (virDomainObjUpdateModificationImpact), not
// NO_DOMAIN; err, the missing definition's, otherwise.
func (s *Service) noStoredConfig(name string, err error) error {
	return s.transientErr(name, err, "transient domains do not have any persistent config (--config); fix: --live, or define it first (vmlite define, virsh define)")
}

// transientErr is err (a missing stored definition) for a guest that
// does not run, and OperationInvalid saying why for one that does: a
// transient guest exists, it has no definition to change.
func (s *Service) transientErr(name string, err error, why string) error {
	if !errors.Is(err, errdefs.ErrNotFound) {
		return err
	}
	if held, herr := state.Held(s.layout.LockFile(name)); herr != nil || !held {
		return err
	}
	return &Error{Code: OperationInvalid, Err: fmt.Errorf("%w: guest %q is transient: %s", errdefs.ErrInvalid, name, why)}
}

// runningGuest is a running guest's launch plan and the limits it has now.
type runningGuest struct {
	runDir string
	plan   *plan.Plan
	limits plan.Limits
}

// loadRunning finds guest name's launch plan and live limits. A guest
// without a live supervisor is errdefs.ErrNotRunning.
func (s *Service) loadRunning(name string) (*runningGuest, error) {
	held, err := state.Held(s.layout.LockFile(name))
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.layout.PlanFile(name))
	if !held || errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("guest %q: %w", name, errdefs.ErrNotRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("guest %q: read launch plan: %w", name, err)
	}
	p, err := plan.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("guest %q: %w", name, err)
	}
	dir := s.layout.RunDir(name)
	l, err := cgroup.LoadLive(dir, p.Cgroup.Limits)
	if err != nil {
		return nil, fmt.Errorf("guest %q: %w", name, err)
	}
	return &runningGuest{runDir: dir, plan: p, limits: l}, nil
}

// tuning is the guest's limits with the memory and CPU ones read from
// its cgroup now (cgroup.Manager.Tuning), as libvirt's LXC driver reads
// them for memtune and schedinfo.
func (g *runningGuest) tuning() (plan.Limits, error) {
	m, err := cgroup.Open(g.plan.Cgroup)
	if err != nil {
		return plan.Limits{}, fmt.Errorf("guest %q: %w", g.plan.Name, err)
	}
	l, err := m.Tuning(g.limits)
	if err != nil {
		return plan.Limits{}, fmt.Errorf("guest %q: read its cgroup's limits: %w", g.plan.Name, err)
	}
	return l, nil
}

// set writes l to the guest's cgroup and records it as its live limits.
// Limits the host cannot enforce come back as warnings, as libvirt does.
func (g *runningGuest) set(l plan.Limits) (Warnings, error) {
	m, err := cgroup.Open(g.plan.Cgroup)
	if err != nil {
		return nil, err
	}
	err = m.Set(l)
	var ws Warnings
	var w cgroup.Warnings
	if errors.As(err, &w) {
		for _, x := range w {
			ws = append(ws, fmt.Sprintf("%s not applied: %s", x.Limit, x.Reason))
		}
		err = nil
	}
	if err != nil {
		return ws, fmt.Errorf("guest %q: %w", g.plan.Name, err)
	}
	g.limits = l
	return ws, cgroup.SaveLive(g.runDir, l)
}

// storedGuest is a guest's stored definition, edited by AffectConfig.
type storedGuest struct {
	store *domain.Store
	dom   *domain.Domain
}

func (s *Service) loadStored(name string) (*storedGuest, error) {
	st := domain.NewStore(s.layout)
	d, err := st.Load(name)
	if err != nil {
		return nil, err
	}
	return &storedGuest{store: st, dom: d}, nil
}

// check parses the edited definition again, so that a change the XML rules
// refuse (soft_limit above hard_limit, ...) is reported, with its path,
// before anything is written or applied. It is the caller's value that is
// wrong, not an XML document: InvalidArg (libvirt's VIR_ERR_INVALID_ARG).
func (g *storedGuest) check() error {
	b, err := g.dom.Marshal()
	if err != nil {
		return err
	}
	if _, _, err = domain.Parse(g.dom.File, b); err != nil {
		return &Error{Code: InvalidArg, Err: err}
	}
	return nil
}

func (g *storedGuest) save() error {
	if err := g.check(); err != nil {
		return err
	}
	return g.store.Save(g.dom)
}

// x is the definition's libvirt structs.
func (g *storedGuest) x() *libvirtxml.Domain { return g.dom.XML }

// maxMemory reads <memory> (the guest's maximum) from the domain XML the
// guest runs with; 0 when it cannot tell.
func maxMemory(domainXML string) uint64 {
	if domainXML == "" {
		return 0
	}
	var d libvirtxml.Domain
	if err := d.Unmarshal(domainXML); err != nil {
		return 0
	}
	b, _ := domain.MaxMemory(&d)
	return b
}

// storedMemtune reads <memtune> of a stored definition, which was
// validated when it was stored.
func storedMemtune(x *libvirtxml.Domain) plan.Limits {
	l, _ := domain.Memtune(x)
	return l
}
