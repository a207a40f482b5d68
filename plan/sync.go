package plan

import "encoding/json"

// The sync protocol between the supervisor and `vmlite __init` runs over a
// unix SOCK_SEQPACKET socketpair (fd plan.InitSyncFD in the child). One JSON
// message per packet; message boundaries and EOF come from the socket type.
// A message bigger than a packet may be (a plan with a huge <description>
// or a thousand interfaces) travels in a sealed memfd, passed as the last
// SCM_RIGHTS fd of a packet that reads "memfd" (Send and Recv do it).
//
//	supervisor                               __init (blocked reading fd 3)
//	   clone(namespaces) ------------------>
//	   cgroup membership (v1), host side of
//	   the network, idmapped mount trees,
//	   clones of the /proc server's files
//	   (made from before the clone on)
//	   MsgGo{plan} + SCM_RIGHTS(tree fds) -->
//	                                          join v1 cgroups (tasks fds),
//	                                          unshare(cgroup ns), mounts, /dev,
//	                                          console, pivot_root, hostname,
//	                                          capabilities, lookup of init
//	   <--------------------------- MsgReady
//	                                          execve(init); fd 3 is close-on-exec
//	   EOF -> init runs (exec succeeded)
//
//	   <------------- MsgError{StepFailure} at any point, also when execve
//	                                                 fails after MsgReady
//
// EOF before MsgReady means __init died (crash, OOM, killed): the supervisor
// then reports the wait status instead.
//
// A pre-forked stage (supervisor/stages_linux.go: cloned before any guest
// asked for it, in fresh pid, uts, ipc, net and, for mapped guests, user
// namespaces, its stdio /dev/null) first gets MsgAdopt, which makes it a
// given guest's; then the exchange above follows unchanged:
//
//	   (mapped guest: uid_map, gid_map written)
//	   MsgAdopt{mapped} + SCM_RIGHTS(console pty slaves) -->
//	                                          consoles on fds 0-2 and 4+i, the
//	                                          console's session; mapped: become
//	                                          the guest's root, inheritable and
//	                                          ambient capabilities cleared; no
//	                                          parent-death signal; a new mount
//	                                          namespace (a copy of the host's as
//	                                          it is now, not as it was at clone)
//	   MsgGo ... as above
//
// What may take the supervisor longer runs while __init sets the guest
// up: the clones of the /proc server's files (each a lookup the server
// answers when it gets a CPU) and a taken stage's move into the guest's
// cgroup2 tree (a pid written to cgroup.procs: it waits for an RCU grace
// period). MsgGo then says RestPending (and JoinPending), and __init waits
// for MsgRest before it binds those files (and enters its cgroup
// namespace and mounts /sys/fs/cgroup):
//
//	   MsgGo{plan, restPending, joinPending} ->  hostname, /proc, /sys, /dev, ...
//	   MsgRest{procfsFds} + SCM_RIGHTS ------->  /proc server's files, cgroup ns,
//	                                             /sys/fs/cgroup, the rest
//
// While it waits, a stage may first get MsgWarm: the guest-independent
// part of the set-up, done ahead of any guest. With InCgroup the
// supervisor has made it a spare cgroup (cgroup/spare_linux.go), which a
// start renames to its guest's: the stage joins it through the tasks
// files that come along (JoinFDs; a stage that cannot exits), enters a
// cgroup namespace rooted there and, unmapped, premounts the v1
// hierarchies as detached mounts (cgroup.PremountV1) for the guest's
// /sys/fs/cgroup. Either way it brings its lo up. A failure after the
// join is no failure of the stage: what was not done ahead is done after
// MsgGo as for a cloned stage.
//
//	   MsgWarm{inCgroup} + SCM_RIGHTS(tasks files) -->  (no answer)

// MsgType is a sync message kind.
type MsgType string

const (
	MsgAdopt MsgType = "adopt"
	MsgWarm  MsgType = "warm"
	// MsgRest follows a MsgGo with RestPending: the /proc server's files
	// and, with JoinPending, word that __init is in all of its cgroup.
	MsgRest  MsgType = "rest"
	MsgGo    MsgType = "go"
	MsgReady MsgType = "ready"
	MsgError MsgType = "error"
)

// Message is one sync packet; the supervisor and __init speak its two sides.
type Message struct {
	Type MsgType `json:"type"`
	// Plan travels with MsgGo: the supervisor passes on the JSON it read,
	// not re-encoded (and not base64 as a []byte would be).
	Plan json.RawMessage `json:"plan,omitempty"`
	// RootfsFD is set in MsgGo when an idmapped root tree fd rides along in
	// SCM_RIGHTS: the index of that fd in the received rights.
	RootfsFD int `json:"rootfsFd"`
	// ConsolePaths are the host paths of the console pty slaves (MsgGo).
	// __init binds them by path: a bind from the inherited fd would name the
	// supervisor's mount namespace, which mount(2) refuses (EINVAL).
	ConsolePaths []string `json:"consolePaths,omitempty"`
	// MountFDs is aligned with the plan's Mounts: for each, the index in
	// the received rights of a mount tree the supervisor cloned (and
	// idmapped) from its host source, or -1 (MsgGo).
	MountFDs []int `json:"mountFds,omitempty"`
	// DevFDs maps host device paths to the index in the received rights of
	// a copy of the node owned by a mapped guest's root (MsgGo).
	DevFDs map[string]int `json:"devFds,omitempty"`
	// MaskFD is the index in the received rights of the supervisor's
	// clone of its empty read-only tmpfs, which __init attaches over the
	// masked directories, or -1 (MsgGo; then __init mounts a tmpfs of its
	// own).
	MaskFD int `json:"maskFd"`
	// CgroupFD is the index in the received rights of the supervisor's
	// clone of its read-only /sys/fs/cgroup skeleton for a v1 guest
	// without a user namespace, or -1 (MsgGo; then __init mounts a tmpfs).
	CgroupFD int `json:"cgroupFd"`
	// ProcFSFDs maps the /proc server's files (procfs.Files: "proc/meminfo")
	// to the index in the received rights of the supervisor's read-only
	// clone of the guest's file (MsgGo); a file without one is bound by
	// path.
	ProcFSFDs map[string]int `json:"procfsFds,omitempty"`
	// JoinFDs are the indexes in the received rights of the guest's (or,
	// in MsgWarm, the spare's) v1 cgroup tasks files, open for writing
	// (cgroup.SelfJoin): __init writes 0 to each, which moves its own
	// thread, first thing (MsgGo: empty when the supervisor moved it by
	// pid or it came from a spare).
	JoinFDs []int `json:"joinFds,omitempty"`
	// RestPending is set in MsgGo when MsgRest follows: __init sets up
	// what needs neither the /proc server's files nor (JoinPending) its
	// cgroup, then waits for it.
	RestPending bool `json:"restPending,omitempty"`
	// JoinPending is set in MsgGo when the supervisor is still moving
	// __init (a taken stage) into part of the guest's cgroup by pid: its
	// cgroup namespace and /sys/fs/cgroup wait for MsgRest (and so does
	// the exec of init).
	JoinPending bool `json:"joinPending,omitempty"`
	// AttachDir is an empty host directory, traversable by the guest's
	// root, where __init attaches the root tree (MsgGo).
	AttachDir string `json:"attachDir,omitempty"`
	// Failure says what failed (MsgError).
	Failure *StepFailure `json:"failure,omitempty"`
	// Mapped is set in MsgAdopt when the stage's user namespace has just
	// got the guest's maps: the stage then becomes the guest's root.
	Mapped bool `json:"mapped,omitempty"`
	// InCgroup is set in MsgWarm when the stage has a spare cgroup, whose
	// tasks files ride along (JoinFDs).
	InCgroup bool `json:"inCgroup,omitempty"`
	// Consoles is the number of console pty slaves riding along with
	// MsgAdopt, console 0 first.
	Consoles int `json:"consoles,omitempty"`
	// Timings are __init's set-up steps and their durations (MsgReady),
	// which the supervisor logs.
	Timings []StepTime `json:"timings,omitempty"`
}

// StepTime is how long one of __init's set-up steps took.
type StepTime struct {
	Step   string `json:"step"`
	Micros int64  `json:"us"`
}

// Message constructors for the supervisor side.

// GoMessage is the release message carrying the plan.
func GoMessage(planJSON json.RawMessage, consolePaths []string, attachDir string, withRootfsFD bool) Message {
	m := Message{Type: MsgGo, Plan: planJSON, RootfsFD: -1, MaskFD: -1, CgroupFD: -1, ConsolePaths: consolePaths, AttachDir: attachDir}
	if withRootfsFD {
		m.RootfsFD = 0
	}
	return m
}

// AdoptMessage makes a pre-forked stage the guest's; n console slaves ride
// along in SCM_RIGHTS.
func AdoptMessage(n int, mapped bool) Message {
	return Message{Type: MsgAdopt, RootfsFD: -1, Consoles: n, Mapped: mapped}
}

// WarmMessage has a waiting stage do its guest-independent set-up;
// inCgroup: it is in its spare cgroup.
func WarmMessage(inCgroup bool) Message {
	return Message{Type: MsgWarm, RootfsFD: -1, MaskFD: -1, CgroupFD: -1, InCgroup: inCgroup}
}

// IsReady reports whether m is the ready message.
func (m Message) IsReady() bool { return m.Type == MsgReady }

// IsError reports whether m reports a failure.
func (m Message) IsError() bool { return m.Type == MsgError }
