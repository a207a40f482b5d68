// Package enter runs a command inside a running guest (`vmlite exec`).
//
// Go cannot setns(2) into a user or mount namespace once it is
// multithreaded, which it always is. So the CLI spawns `vmlite __exec`, a
// short-lived process that joins the guest's cgroup, narrows its capability
// bounding set to the guest's, and execs util-linux's nsenter (Essential on
// Debian, present on every mainstream distribution), which enters all of the
// guest's namespaces, its root, and forks into its pid namespace. We chose
// nsenter over a cgo constructor (runc's nsexec) to keep the binary static
// and cgo-free; the cost is one more exec (about a millisecond).
package enter

// Role is the hidden argv[1] of the exec helper (host side), and
// InsideRole that of its second stage, run inside the guest by nsenter.
const (
	Role       = "__exec"
	InsideRole = "__exec-inside"
)

// envConfig carries the Config from the CLI to the helper.
const envConfig = "_VMLITE_EXEC_CONFIG"

// Config says what to run where.
type Config struct {
	// InitPID is the host pid of the guest's init: whose namespaces to enter.
	InitPID int `json:"initPid"`
	// UserNS is true for a guest with an <idmap>.
	UserNS bool `json:"userns"`
	// UID and GID are guest ids to run as.
	UID int `json:"uid"`
	GID int `json:"gid"`
	// Env is the command's complete environment.
	Env []string `json:"env"`
	// Argv is the command.
	Argv []string `json:"argv"`
	// Drop lists capabilities to remove from the bounding set (the guest's).
	Drop []string `json:"drop,omitempty"`
	// CgroupProcs are cgroup.procs files to join before entering.
	CgroupProcs []string `json:"cgroupProcs,omitempty"`
	// Nsenter is the nsenter binary.
	Nsenter string `json:"nsenter"`
	// SelfFD is the helper's fd of its own binary, which the second stage
	// is exec'd from inside the guest.
	SelfFD int `json:"selfFd"`
}
