// Package plan holds the launch plan: the one serialisable description of a
// guest that crosses every process boundary in vmlite.
//
// Data flow:
//
//	domain.xml -> domain.Parse (strict, all errors at once)
//	           -> launch.Build (every default resolved, host probes, names allocated)
//	           -> CLI writes Plan as JSON to the new supervisor (fd 3)
//	           -> supervisor creates host-side resources, spawns `vmlite __init`
//	              and sends it the same Plan over the sync socket
//	           -> vmlite __init (initsys) sets up the guest and execs its init.
//
// Nothing else crosses those boundaries: a field that one side needs is a
// field here. plan_test.go round-trips a fully populated Plan through JSON so
// that no field can be forgotten (tags must stay in sync).
//
// When adding a field, put it in the section of the struct it belongs to and
// document who reads it (CLI, supervisor, init).
//
// This package is OS-independent and imports nothing of vmlite; package launch
// builds plans.
package plan

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// Version is bumped when the JSON shape changes incompatibly. A supervisor
// refuses a plan of another version (a host upgraded while guests run keeps
// old supervisors, which only ever read the plan they were started with).
const Version = 1

// DefaultPath is the PATH a guest's init and `vmlite exec` get (libvirt's
// LXC driver sets the same), and the one a supervisor runs with.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Plan describes one guest launch. It is immutable once built, but for
// the devices a running guest's supervisor attaches and detaches
// (DeviceChange): Devices, Interfaces and DomainXML then change with them.
type Plan struct {
	Version int `json:"version"`

	// Share lists the namespaces the guest joins instead of making its own
	// (<lxc:namespace>).
	Share []SharedNamespace `json:"share,omitempty"`

	// --- identity (all sides) ---

	// Name is the domain name, unique on the host.
	Name string `json:"name"`
	// UUID is the domain UUID, canonical lower-case form.
	UUID string `json:"uuid"`
	// Hostname is set in the guest's UTS namespace.
	Hostname string `json:"hostname"`
	// Transient is true for a guest started from a file without define.
	Transient bool `json:"transient,omitempty"`
	// Source names the XML file the plan was built from, for messages.
	Source string `json:"source,omitempty"`
	// DomainXML is the (normalised) domain XML the guest runs with, kept so that
	// dumpxml of a running guest shows the live definition.
	DomainXML string `json:"domainXML,omitempty"`

	// --- host paths (supervisor) ---
	Paths Paths `json:"paths"`

	// --- the guest's init (init) ---
	Init Init `json:"init"`

	// --- filesystems (init; supervisor for idmapped mounts) ---

	// Rootfs is the guest's root. Path "" means the guest shares the host's /
	// (libvirt's behaviour without a root <filesystem>), with its own /proc,
	// /sys, /dev, /run.
	Rootfs Rootfs `json:"rootfs"`
	// Mounts are applied in order after the root is in place; targets are
	// guest paths.
	Mounts []Mount `json:"mounts,omitempty"`
	// Devices are host device nodes bind-mounted into the guest's /dev
	// (hostdev passthrough). The standard nodes are not listed: init always
	// provides them.
	Devices []Device `json:"devices,omitempty"`

	// --- console (supervisor allocates, init installs) ---
	Consoles []Console `json:"consoles"`

	// --- isolation (supervisor spawns, init applies) ---
	IDMap IDMap `json:"idmap"`
	// Capabilities lists what the guest's init keeps in its bounding set.
	Capabilities Capabilities `json:"capabilities"`

	// --- resources (supervisor) ---
	Cgroup Cgroup `json:"cgroup"`

	// --- network (supervisor configures from the host side before init runs) ---
	Interfaces []Interface `json:"interfaces,omitempty"`

	// --- lifecycle (supervisor) ---
	Lifecycle Lifecycle `json:"lifecycle"`
	Stop      Stop      `json:"stop"`
}

// Paths are the host paths of one guest's runtime state. See package state
// for the layout.
type Paths struct {
	// RunDir holds state.json, the control socket and the lock.
	RunDir string `json:"runDir"`
	// LogFile is the console log, which outlives the guest.
	LogFile string `json:"logFile"`
	// SupervisorLog receives the supervisor's own diagnostics.
	SupervisorLog string `json:"supervisorLog"`
	// StateFile, ControlSocket, PlanFile and LiveXML live in RunDir.
	StateFile     string `json:"stateFile"`
	ControlSocket string `json:"controlSocket"`
	PlanFile      string `json:"planFile"`
	LiveXML       string `json:"liveXML"`
	// LastFile records the final state of the run (outlives RunDir).
	LastFile string `json:"lastFile"`
	// RunRoot is the runtime tree (state.Layout.Run): shared supervisors'
	// sockets live there (and the extracted vmlite-init when InitBinDir is
	// "": plans of older builds).
	RunRoot string `json:"runRoot,omitempty"`
	// InitBinDir is where vmlite-init is written out (state.Layout.InitBinDir):
	// on disk, so that its pages are page cache the host can reclaim, not
	// Shmem pinned on the /run tmpfs for as long as any guest runs.
	InitBinDir string `json:"initBinDir,omitempty"`
	// ProcFS is the host-wide /proc server's directory (state.Layout.ProcFSDir,
	// package procfs): the supervisor registers the guest there and starts the
	// server, init binds the server's files from ProcFS/mnt over the guest's
	// /proc files. "" when the guest opts out (<vmlite:procfs state='off'/>).
	ProcFS string `json:"procfs,omitempty"`
	// ProcFSLog receives the /proc server's diagnostics.
	ProcFSLog string `json:"procfsLog,omitempty"`
	// ShiftDir holds the records of trees shifted by chown for a guest
	// without idmapped mounts (package uidmap; outlives RunDir).
	ShiftDir string `json:"shiftDir,omitempty"`
}

// Init is the guest's PID 1 and how to run it.
type Init struct {
	// Path is the guest path of the init binary (<os><init>).
	Path string `json:"path"`
	// Args are argv[1:] (<initarg>).
	Args []string `json:"args,omitempty"`
	// Env is the complete environment (implicit variables first, then <initenv>).
	Env []string `json:"env"`
	// Dir is the working directory (<initdir>), "/" by default.
	Dir string `json:"dir"`
	// UID and GID are guest ids (<inituser>, <initgroup>), resolved against
	// the guest's /etc/passwd by init when User/Group are names.
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	// Kind is the detected init system, used to pick the stop signal.
	Kind InitKind `json:"kind"`
	// XMLPath locates <init> for error messages.
	XMLPath string `json:"xmlPath"`
}

// InitKind names an init system family. Its String is its JSON form.
type InitKind string

// Init systems vmlite knows how to stop and reboot.
const (
	InitUnknown  InitKind = "unknown"
	InitSystemd  InitKind = "systemd"
	InitBusybox  InitKind = "busybox"
	InitSysvinit InitKind = "sysvinit"
	InitShell    InitKind = "shell" // a plain program such as /bin/sh: no shutdown protocol
)

// Rootfs is the guest's root filesystem.
type Rootfs struct {
	// Path is the host directory; "" shares the host's root.
	Path     string `json:"path,omitempty"`
	ReadOnly bool   `json:"readOnly,omitempty"`
	// IDMapped asks the supervisor to attach Path through an idmapped mount
	// (kernel >= 5.12) using the guest's user namespace; false with a user
	// namespace means the tree was shifted (chowned) beforehand.
	IDMapped bool   `json:"idmapped,omitempty"`
	XMLPath  string `json:"xmlPath,omitempty"`
	// Image, when set, makes the root an image file (Path is the file):
	// the supervisor attaches it and hands __init the mounted tree.
	Image *Image `json:"image,omitempty"`
	// Overlay is set for a root made from an image (<filesystem
	// type='template'>); Path is then the guest's layer directory. The
	// supervisor mounts overlayfs over it (idmapping every layer when
	// IDMapped) instead of cloning Path.
	Overlay *Overlay `json:"overlay,omitempty"`
}

// Image is an image file attached as a block device and mounted
// (<filesystem type='file'>).
type Image struct {
	File string `json:"file"`
	// Driver is loop or nbd; Format the image's (raw for loop).
	Driver string `json:"driver"`
	Format string `json:"format"`
}

// Overlay is a root filesystem from an image: the image's layers (and the
// snapshots of clones) as overlayfs lower layers, shared read-only, and the
// guest's own upper layer (package image).
type Overlay struct {
	// Image is the name the XML gives, ImageID the image it resolved to.
	Image   string `json:"image"`
	ImageID string `json:"imageId"`
	// Lowers are host directories, top first.
	Lowers []string `json:"lowers"`
	// LayerDir holds the guest's upper/ and work/ and the layer's record.
	LayerDir string `json:"layerDir"`
	// Fresh: the guest has no layer yet. The supervisor makes it, and
	// removes it again if this start fails.
	Fresh bool `json:"fresh,omitempty"`
}

// MountKind is the kind of a guest mount.
type MountKind string

// Mount kinds.
const (
	MountBind  MountKind = "bind"  // <filesystem type='mount'>: host dir -> guest dir
	MountTmpfs MountKind = "tmpfs" // <filesystem type='ram'>
	MountGuest MountKind = "guest" // <filesystem type='bind'>: guest dir -> guest dir
	MountBlock MountKind = "block" // <filesystem type='block'>: host block device
	MountImage MountKind = "image" // <filesystem type='file'>: host image file, Mount.Image
)

// Mount is one filesystem in the guest.
type Mount struct {
	Kind MountKind `json:"kind"`
	// Source is a host path (bind, block) or a guest path (guest); unused for tmpfs.
	Source string `json:"source,omitempty"`
	// Target is the guest path.
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
	// SizeBytes limits a tmpfs; 0 is the kernel default.
	SizeBytes uint64 `json:"sizeBytes,omitempty"`
	// FSType is the filesystem type for block mounts ("" = probe).
	FSType   string `json:"fsType,omitempty"`
	IDMapped bool   `json:"idmapped,omitempty"`
	XMLPath  string `json:"xmlPath"`
	// Image is the image file of an image mount (Source is the same file).
	Image *Image `json:"image,omitempty"`
}

// Device is a host device node passed to the guest.
type Device struct {
	// HostPath is the node on the host, GuestPath where it appears.
	HostPath  string `json:"hostPath"`
	GuestPath string `json:"guestPath"`
	// ReadOnly is <disk><readonly/>: the device allow-list lets the guest
	// read the device (and make its node), not write it, as libvirt's LXC
	// driver does.
	ReadOnly bool   `json:"readOnly,omitempty"`
	XMLPath  string `json:"xmlPath"`
}

// Access is the device allow-list access the guest gets to the node:
// read, write and mknod, or read and mknod for a read-only disk.
func (d Device) Access() string {
	if d.ReadOnly {
		return "rm"
	}
	return "rwm"
}

// Console is one pty console. Port 0 is /dev/console; port N>0 appears as
// /dev/ttyN in the guest (libvirt's numbering).
type Console struct {
	Port int `json:"port"`
	// GuestPath is /dev/console or /dev/ttyN.
	GuestPath string `json:"guestPath"`
	// Name is the --devname alias: console0, console1, ...
	Name string `json:"name"`
	// Socket is the console multiplexer's socket on the host.
	Socket string `json:"socket"`
	// LogFile is <console><log file=...>: a host file that also receives
	// the console's output (Nova reads it); "" for none. LogAppend keeps
	// what it holds (append='on'); otherwise it is started afresh.
	LogFile   string `json:"logFile,omitempty"`
	LogAppend bool   `json:"logAppend,omitempty"`
	XMLPath   string `json:"xmlPath"`
}

// IDRange maps Count ids starting at guest id Start to host id Target.
type IDRange struct {
	Start  uint32 `json:"start"`
	Target uint32 `json:"target"`
	Count  uint32 `json:"count"`
}

// IDMap is the guest's user namespace. Empty maps mean no user namespace
// (the guest's root is the host's root).
type IDMap struct {
	UIDs []IDRange `json:"uids,omitempty"`
	GIDs []IDRange `json:"gids,omitempty"`
	// AllowOverlap lets the guest start while another running guest maps
	// some of the same host ids (<vmlite:idmap allowOverlap="yes"/>). Read
	// by the CLI's check before launch (uidmap.CheckRunning).
	AllowOverlap bool `json:"allowOverlap,omitempty"`
	// ForceChown makes the supervisor shift the owners of the root and bind
	// mount trees by chown instead of trying idmapped mounts first
	// (<vmlite:idmap shift="chown"/>). See package uidmap.
	ForceChown bool `json:"forceChown,omitempty"`
}

// Enabled reports whether the guest gets a user namespace.
func (m IDMap) Enabled() bool { return len(m.UIDs) > 0 }

// HostRoot returns the host uid and gid of the guest's root (0, 0 without a map).
func (m IDMap) HostRoot() (uid, gid uint32) {
	return hostID(m.UIDs, 0), hostID(m.GIDs, 0)
}

func hostID(rs []IDRange, id uint32) uint32 {
	for _, r := range rs {
		if id >= r.Start && id-r.Start < r.Count {
			return r.Target + (id - r.Start)
		}
	}
	if len(rs) == 0 {
		return id
	}
	return 65534 // the overflow id: unmapped
}

// Capabilities is the guest's capability bounding set.
type Capabilities struct {
	// Drop lists capability names ("CAP_SYS_MODULE") removed from the bounding set.
	Drop []string `json:"drop,omitempty"`
}

// Cgroup places the guest in its own cgroup and limits it.
type Cgroup struct {
	// Partition is the parent below the vmlite root (<resource><partition>), e.g. "/machine".
	Partition string `json:"partition"`
	// Name is the leaf directory, unique per guest.
	Name   string `json:"name"`
	Limits Limits `json:"limits"`
}

// Limits are the resource limits; zero values mean "no limit / kernel default".
type Limits struct {
	MemoryBytes     uint64        `json:"memoryBytes,omitempty"`     // <memory>/<currentMemory>/<memtune><hard_limit>
	MemorySoftBytes uint64        `json:"memorySoftBytes,omitempty"` // <memtune><soft_limit>
	SwapBytes       uint64        `json:"swapBytes,omitempty"`       // <memtune><swap_hard_limit> (memory+swap)
	CPUShares       uint64        `json:"cpuShares,omitempty"`       // <cputune><shares>
	CPUPeriodUS     uint64        `json:"cpuPeriodUS,omitempty"`     // <cputune><period>
	CPUQuotaUS      int64         `json:"cpuQuotaUS,omitempty"`      // <cputune><quota> or derived from <vcpu>
	CPUSet          string        `json:"cpuset,omitempty"`          // <vcpu cpuset=>
	PidsMax         int64         `json:"pidsMax,omitempty"`         // vmlite:pids
	BlkioWeight     uint64        `json:"blkioWeight,omitempty"`     // <blkiotune><weight>
	BlkioDevices    []BlkioDevice `json:"blkioDevices,omitempty"`
}

// BlkioDevice is a per-device block I/O limit (<blkiotune><device>).
type BlkioDevice struct {
	Path      string `json:"path"`
	Weight    uint64 `json:"weight,omitempty"`
	ReadBps   uint64 `json:"readBps,omitempty"`
	WriteBps  uint64 `json:"writeBps,omitempty"`
	ReadIops  uint64 `json:"readIops,omitempty"`
	WriteIops uint64 `json:"writeIops,omitempty"`
}

// Interface is one guest network interface: a veth pair (bridge, network,
// ethernet) or a macvlan (direct).
type Interface struct {
	// Type is bridge, network, ethernet or direct.
	Type string `json:"type"`
	// HostName is the host-side link (veth peer); empty for direct.
	HostName string `json:"hostName,omitempty"`
	// GuestName is the name inside the guest (eth0, ...).
	GuestName string `json:"guestName"`
	MAC       MAC    `json:"mac"`
	// Bridge is the host bridge the host side joins (bridge, network).
	Bridge string `json:"bridge,omitempty"`
	// Network is the vmlite network name (network).
	Network string `json:"network,omitempty"`
	// SourceDev and MacvlanMode are for direct.
	SourceDev   string `json:"sourceDev,omitempty"`
	MacvlanMode string `json:"macvlanMode,omitempty"`
	// IPs are guest addresses with their prefix (10.0.0.5/24: the address
	// keeps its host bits); HostIPs go on the host side (ethernet).
	// Parsed once, from the XML, by the builder; the JSON writes them as
	// text, as plans did when they were strings.
	IPs     []netip.Prefix `json:"ips,omitempty"`
	HostIPs []netip.Prefix `json:"hostIPs,omitempty"`
	Routes  []Route        `json:"routes,omitempty"`
	MTU     int            `json:"mtu,omitempty"`
	// LinkUp is <link state='up'/>: the link comes up even without an
	// address. Up says what the guest gets.
	LinkUp  bool   `json:"linkUp,omitempty"`
	XMLPath string `json:"xmlPath"`
}

// Up says whether the guest link is brought up before init runs: libvirt's
// rule (lxcContainerRenameAndEnableInterfaces), when it has an address or
// <link state='up'/>. <link state='down'/> does not keep an addressed link
// down. This is the one place that decides it.
func (i Interface) Up() bool { return len(i.IPs) > 0 || i.LinkUp }

// Route is a guest route; the zero Dest is the default route.
type Route struct {
	Dest    netip.Prefix `json:"dest,omitzero"`
	Gateway netip.Addr   `json:"gateway"`
}

// Action is a lifecycle action (<on_poweroff> ...).
type Action string

// Lifecycle actions vmlite honours.
const (
	ActionDestroy Action = "destroy"
	ActionRestart Action = "restart"
	// ActionPreserve keeps the state "crashed" with its details for inspection
	// (the guest's processes are gone either way).
	ActionPreserve Action = "preserve"
)

// Lifecycle says what the supervisor does when the guest ends.
type Lifecycle struct {
	OnPoweroff Action `json:"onPoweroff"`
	OnReboot   Action `json:"onReboot"`
	OnCrash    Action `json:"onCrash"`
}

// DefaultStopTimeout bounds a graceful stop without vmlite:stop timeout.
const DefaultStopTimeout = 30 * time.Second

// Stop is how the supervisor asks the guest's init to shut down.
type Stop struct {
	// Signal is a signal name: "SIGRTMIN+4", "SIGUSR2", "SIGPWR", "SIGTERM".
	Signal string `json:"signal"`
	// RebootSignal asks init to reboot.
	RebootSignal string `json:"rebootSignal"`
	// Timeout bounds a graceful stop before everything is killed.
	Timeout Duration `json:"timeout"`
}

// Duration is a time.Duration that marshals as a Go duration string.
type Duration time.Duration

// MarshalJSON writes "90s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "90s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Marshal encodes p as JSON.
func (p *Plan) Marshal() ([]byte, error) { return json.Marshal(p) }

// Unmarshal decodes and version-checks a plan.
func Unmarshal(b []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode launch plan: %w", err)
	}
	if p.Version != Version {
		return nil, fmt.Errorf("launch plan version %d, this vmlite reads %d", p.Version, Version)
	}
	return &p, nil
}

// SharedNamespace is a namespace of another guest or process that the
// guest joins (<lxc:sharenet>, <lxc:shareipc>, <lxc:shareuts>).
type SharedNamespace struct {
	// Kind is net, ipc or uts.
	Kind string `json:"kind"`
	// Path is the host path of the namespace: /proc/PID/ns/KIND or
	// /var/run/netns/NAME.
	Path    string `json:"path"`
	XMLPath string `json:"xmlPath"`
}

// Shares reports whether the guest joins another's namespace of kind.
func (p *Plan) Shares(kind string) bool {
	for _, s := range p.Share {
		if s.Kind == kind {
			return true
		}
	}
	return false
}
