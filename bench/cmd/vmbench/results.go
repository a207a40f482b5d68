package main

// Results is everything one run of vmbench measured; it is written as
// JSON next to the markdown report.
type Results struct {
	Date     string                       `json:"date"`
	Machine  Machine                      `json:"machine"`
	Versions map[string]map[string]string `json:"versions"`
	Runs     int                          `json:"runs"`
	Warmup   int                          `json:"warmup"`
	SettleMs int                          `json:"memorySettleMs"`
	Peers    []string                     `json:"peers"`
	Cycles   []PeerCycles                 `json:"startStop"`
	Memory   []PeerMemory                 `json:"memory"`
	Density  []DensityResult              `json:"density,omitempty"`
	Console  []ConsoleResult              `json:"console,omitempty"`
	// Workloads compare a load inside a guest with the host (seed tables).
	Workloads []WorkloadResult `json:"workloads,omitempty"`
	// DebianPeers, DebianCycles and DebianMemory are the debian section:
	// the same start/stop sets and memory with a Debian/systemd guest.
	DebianPeers  []string     `json:"debianPeers,omitempty"`
	DebianCycles []PeerCycles `json:"debianStartStop,omitempty"`
	DebianMemory []PeerMemory `json:"debianMemory,omitempty"`
	// DebianState is `systemctl is-system-running --wait` in each peer's
	// guest after one boot: "running" unless a unit failed.
	DebianState map[string]string `json:"debianSystemState,omitempty"`
	// Bonnie compares bonnie++ in a vmlite Debian guest with the host.
	Bonnie *BonnieResult `json:"bonnie,omitempty"`
	// ProcFS compares the /proc server with LXCFS and the kernel.
	ProcFS *ProcFSResult `json:"procfs,omitempty"`
	// Images is the images section (images.go).
	Images *ImagesResult `json:"images,omitempty"`
	// Serve compares vmlite serve with libvirtd (serve section).
	Serve *ServeResult `json:"serve,omitempty"`
	// StartProfile splits vmlite's start into phases (profile section).
	StartProfile []ProfileResult `json:"startProfile,omitempty"`
	Notes        []string        `json:"notes,omitempty"`
	// Leftovers lists what a peer left on the host that the harness had
	// to remove (cgroups, directories): a cleanliness finding.
	Leftovers []string `json:"leftovers,omitempty"`
}

// Machine describes the host the run was on.
type Machine struct {
	Cores      int     `json:"cores"`
	Kernel     string  `json:"kernel"`
	Distro     string  `json:"distro"`
	CgroupMode string  `json:"cgroupMode"`
	MemTotalMB int64   `json:"memTotalMiB"`
	PID1       string  `json:"pid1"`
	LoadStart  string  `json:"loadAvgStart"`
	LoadEnd    string  `json:"loadAvgEnd"`
	GoVersion  string  `json:"goVersion"`
	ElapsedMin float64 `json:"elapsedMin"`
}

// PeerCycles is one peer's start/stop set: graceful or forced stops.
type PeerCycles struct {
	Peer        string  `json:"peer"`
	Set         string  `json:"set"` // "graceful" or "forced"
	StartMarker Summary `json:"startToMarkerMs"`
	StartExec   Summary `json:"startToInitExecMs"`
	StartReturn Summary `json:"startToReturnMs"`
	StopReturn  Summary `json:"stopToReturnMs"`
	StopGone    Summary `json:"stopToGoneMs"`
	// Graceful only.
	ShutdownMarker  Summary  `json:"stopToShutdownMarkerMs"`
	InitExit        Summary  `json:"stopToInitExitMs"`
	InitOwn         Summary  `json:"initOwnShutdownMs"`
	ManagerOverhead Summary  `json:"managerStopOverheadMs"`
	Failures        int      `json:"failures"`
	Errors          []string `json:"errors,omitempty"`
	Unsupported     string   `json:"unsupported,omitempty"`
}

// PeerMemory is one peer's per-guest memory, in KiB, over all sampled runs.
type PeerMemory struct {
	Peer       string  `json:"peer"`
	Supervisor string  `json:"supervisor"`
	SupUSS     Summary `json:"supervisorUSSKiB"`
	SupPSS     Summary `json:"supervisorPSSKiB"`
	SupRSS     Summary `json:"supervisorRSSKiB"`
	SupDirty   Summary `json:"supervisorPrivateDirtyKiB"`
	InitUSS    Summary `json:"initUSSKiB"`
	InitPSS    Summary `json:"initPSSKiB"`
	TreeUSS    Summary `json:"treeUSSKiB"`
	TreePSS    Summary `json:"treePSSKiB"`
	TreeProcs  int     `json:"treeProcs"`
}

// seqInFlight (DensityResult.MaxInFlight) is one guest after another: each
// start launched once the previous guest's boot marker exists.
const seqInFlight = -1

// DensityResult is N guests of one peer launched back to back (or one
// after another).
type DensityResult struct {
	Peer           string   `json:"peer"`
	N              int      `json:"n"`
	MaxInFlight    int      `json:"maxInFlight,omitempty"` // 0: all start commands at once; -1: one after another
	Booted         int      `json:"booted"`
	Failures       int      `json:"failures"`
	LaunchS        float64  `json:"launchS"`
	AllBootedS     float64  `json:"allBootedS"`
	MemDeltaMiB    float64  `json:"hostMemDeltaMiB"`
	PerGuestKiB    float64  `json:"hostMemPerGuestKiB"`
	PSSPerGuestKiB float64  `json:"treePSSPerGuestKiB"`
	StopAllS       float64  `json:"stopAllS"`
	StopFailures   int      `json:"stopFailures"`
	Errors         []string `json:"errors,omitempty"`
	// Breakdown is where the host memory went (kmem.go).
	Breakdown *MemBreakdown `json:"breakdown,omitempty"`
	// LoadAvg is /proc/loadavg when the guests had booted.
	LoadAvg string `json:"loadAvg,omitempty"`
	// BootCPU is where the boot's time went (bootcpu.go).
	BootCPU *BootCPU `json:"bootCpu,omitempty"`
}

// ConsoleResult is one console path's throughput and echo latency.
type ConsoleResult struct {
	Path   string  `json:"path"`
	Bytes  int64   `json:"bytes"`
	MBPerS Summary `json:"throughputMBs"`
	EchoMs Summary `json:"echoLatencyMs"`
	// RelayCPUMsPerMB is the CPU time (user and system) the relay took per
	// MB of output: the supervisor or monitor plus the console client, per
	// throughput run (empty for the raw pty, which has no relay).
	RelayCPUMsPerMB Summary `json:"relayCpuMsPerMB"`
	Description     string  `json:"description"`
	Error           string  `json:"error,omitempty"`
}

// ProfileResult is the phases of one vmlite build's start, from strace.
type ProfileResult struct {
	Peer   string        `json:"peer"`
	Phases []PhaseResult `json:"phases"`
}

// PhaseResult is one phase's duration over the traced starts.
type PhaseResult struct {
	Phase string  `json:"phase"`
	Ms    Summary `json:"ms"`
}

// WorkloadResult is one workload in a vmlite guest against the host.
type WorkloadResult struct {
	Name     string  `json:"name"`
	Command  string  `json:"command"`
	HostS    Summary `json:"hostSeconds"`
	GuestS   Summary `json:"guestSeconds"`
	DeltaPct float64 `json:"guestDeltaPercent"`
}

// BonnieResult is bonnie++ run alternately on the host and in a vmlite
// Debian guest, figure by figure.
type BonnieResult struct {
	Command string         `json:"command"`
	Figures []BonnieFigure `json:"figures"`
	Errors  []string       `json:"errors,omitempty"`
}

// BonnieFigure is one of bonnie++'s figures on both sides. DeltaPct is
// the guest's median against the host's, in % (negative: the guest is
// slower, for these higher-is-better figures); 0 when a side has no
// figure (bonnie++ printed "+++++": too fast to time).
type BonnieFigure struct {
	Name     string  `json:"name"`
	Unit     string  `json:"unit"`
	Host     Summary `json:"host"`
	Guest    Summary `json:"guest"`
	DeltaPct float64 `json:"guestDeltaPercent"`
	// Paired is the guest's delta in % run by run (the i-th guest run
	// against the i-th host run, which ran next to it): robust against
	// load that drifts over the section.
	Paired Summary `json:"pairedDeltaPercent"`
}
