// Package enter runs a command inside a running guest (`vmlite exec`).
//
// The host side never runs anything by a path the guest controls while it
// holds more than the guest has. The CLI spawns `vmlite __exec` (Role), a
// host-side helper that joins the guest's cgroup, copies the second stage
// (the embedded vmlite-init, else this binary) into a sealed memfd and forks a single-threaded child with raw system
// calls (Go cannot setns(2) into a user namespace once multithreaded, and
// a plain fork's child is single-threaded). That child enters every
// namespace of the guest's init through a pidfd in one setns(2): the mount
// namespace sets its root to the namespace's root, not to the init's
// chroot (/proc/INIT/root, which the guest controls). It forks once more
// into the guest's pid namespace (as a child of the helper, CLONE_PARENT);
// that grandchild narrows its bounding set, effective and permitted sets
// to the guest's, clears its ambient set and execs the second stage
// (InsideRole) from the memfd with execveat(AT_EMPTY_PATH): no path is
// resolved before it holds only what the guest holds. The second stage,
// already inside the guest with the guest's privileges, reads the guest's
// /etc/passwd and /etc/group for --user (regular files only, never
// blocking), takes the command's ids and execs the command.
//
// The helper waits for the command and ends with its status; set-up errors
// reach the CLI on a status pipe (fd StatusFD), so that a user error (an
// unknown user) exits 2 as every user error does.
package enter

// Role is the hidden argv[1] of the exec helper (host side), and
// InsideRole that of its second stage, run inside the guest.
const (
	Role       = "__exec"
	InsideRole = "__exec-inside"
)

// envConfig carries the Config from the CLI to the helper and the second stage.
const envConfig = "_VMLITE_EXEC_CONFIG"

// StatusFD is the helper's and the second stage's fd of the status pipe:
// one line, "user: MSG" or "error: MSG", when the command could not be
// started; nothing (end of file) when it was.
const StatusFD = 3

// Config says what to run where.
type Config struct {
	// InitPID is the host pid of the guest's init: whose namespaces to enter.
	InitPID int `json:"initPid"`
	// InitStart is that init's start time (clock ticks since boot, from
	// the guest's state): the pidfd is checked against it, so that a pid
	// reused by another process (of the host) is never entered. 0: unchecked.
	InitStart uint64 `json:"initStart,omitempty"`
	// UserNS is true for a guest with an <idmap>.
	UserNS bool `json:"userns"`
	// User is --user: a name, a uid, or user:group, resolved inside the
	// guest ("" = root).
	User string `json:"user,omitempty"`
	// Env is the command's complete environment; HOME is set from the
	// user's entry when User names one.
	Env []string `json:"env"`
	// Argv is the command.
	Argv []string `json:"argv"`
	// Drop lists capabilities the guest lacks (its bounding set's complement).
	Drop []string `json:"drop,omitempty"`
	// CgroupProcs are cgroup.procs files to join before entering.
	CgroupProcs []string `json:"cgroupProcs,omitempty"`
	// TTY is true when the command runs on a pty of its own: the terminal
	// sends SIGINT and SIGQUIT to the command itself, so the helper does
	// not forward them a second time.
	TTY bool `json:"tty,omitempty"`
}
