package plan

// The sync protocol between the supervisor and `vmlite __init` runs over a
// unix SOCK_SEQPACKET socketpair (fd plan.InitSyncFD in the child). One JSON
// message per packet; message boundaries and EOF come from the socket type.
//
//	supervisor                               __init (blocked reading fd 3)
//	   clone(namespaces) ------------------>
//	   cgroup membership (v1), host side of
//	   the network, idmapped mount trees
//	   MsgGo{plan} + SCM_RIGHTS(tree fds) -->
//	                                          unshare(cgroup ns), mounts, /dev,
//	                                          console, pivot_root, hostname,
//	                                          capabilities, lookup of init
//	   <--------------------------- MsgReady
//	                                          execve(init); fd 3 is close-on-exec
//	   EOF -> init runs (exec succeeded)
//
//	   <------------- MsgError{step, xmlPath, msg}  at any point, also when execve
//	                                                 fails after MsgReady
//
// EOF before MsgReady means __init died (crash, OOM, killed): the supervisor
// then reports the wait status instead.

// MsgType is a sync message kind.
type MsgType string

const (
	MsgGo    MsgType = "go"
	MsgReady MsgType = "ready"
	MsgError MsgType = "error"
)

// Message is one sync packet; the supervisor and __init speak its two sides.
type Message struct {
	Type MsgType `json:"type"`
	// Plan travels with MsgGo (JSON of plan.Plan).
	Plan []byte `json:"plan,omitempty"`
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
	// AttachDir is an empty host directory, traversable by the guest's
	// root, where __init attaches the root tree (MsgGo).
	AttachDir string `json:"attachDir,omitempty"`
	// Step, XMLPath, Msg and User describe a failure (MsgError).
	Step    string `json:"step,omitempty"`
	XMLPath string `json:"xmlPath,omitempty"`
	Msg     string `json:"msg,omitempty"`
	User    bool   `json:"user,omitempty"`
}

// Message constructors for the supervisor side.

// GoMessage is the release message carrying the plan.
func GoMessage(planJSON []byte, consolePaths []string, attachDir string, withRootfsFD bool) Message {
	m := Message{Type: MsgGo, Plan: planJSON, RootfsFD: -1, ConsolePaths: consolePaths, AttachDir: attachDir}
	if withRootfsFD {
		m.RootfsFD = 0
	}
	return m
}

// IsReady reports whether m is the ready message.
func (m Message) IsReady() bool { return m.Type == MsgReady }

// IsError reports whether m reports a failure.
func (m Message) IsError() bool { return m.Type == MsgError }

// StepError is a set-up failure inside the guest, naming the step and the
// XML element it came from.
type StepError struct {
	Step    string
	XMLPath string
	Err     error
	// User marks failures the user fixes in the XML or the rootfs (exit 2).
	User bool
}

func (e *StepError) Error() string {
	if e.XMLPath != "" {
		return e.Step + " (" + e.XMLPath + "): " + e.Err.Error()
	}
	return e.Step + ": " + e.Err.Error()
}

func (e *StepError) Unwrap() error { return e.Err }
