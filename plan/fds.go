package plan

// File descriptor layout across vmlite's process boundaries. Numbering lives
// here and only here (runc computes it by hand in several places; we don't).
//
// CLI `vmlite start` -> `vmlite __supervise` (ExtraFiles):
//
//	fd 3  plan pipe, read end: the Plan as JSON, then EOF
//	fd 4  status pipe, write end: one JSON StartResult line, then closed
//	fd 5  the guest's lock file, already flock()ed by the CLI, so that the lock
//	      passes to the supervisor with no window where a second start could win
//	fd 6  (shared supervisors only) the listening socket through which
//	      further guests' plans and locks arrive (supervisor/pool_linux.go)
//
// supervisor -> `vmlite __init` (ExtraFiles; stdin/stdout/stderr are console 0's pty slave):
//
//	fd 3  sync socket (unix seqpacket), see plan/sync.go for the protocol
//	fd 4+i  console i's pty slave (i = 0 .. len(Consoles)-1)
const (
	SupervisorPlanFD   = 3
	SupervisorStatusFD = 4
	SupervisorLockFD   = 5
	SupervisorPoolFD   = 6

	InitSyncFD         = 3
	initFirstConsoleFD = 4
)

// InitConsoleFD is the fd on which __init receives console i's pty slave.
func InitConsoleFD(i int) int { return initFirstConsoleFD + i }

// StartResult is what the supervisor reports to `vmlite start` on the status pipe.
type StartResult struct {
	// OK is true once the guest's init has been exec'd.
	OK bool `json:"ok"`
	// InitPID is the host pid of the guest's init.
	InitPID int `json:"initPid,omitempty"`
	// SupervisorPID is the supervisor's pid.
	SupervisorPID int `json:"supervisorPid,omitempty"`
	// Step names the failed set-up step ("mount rootfs", "exec init").
	Step string `json:"step,omitempty"`
	// XMLPath locates the element the failed step came from.
	XMLPath string `json:"xmlPath,omitempty"`
	// Error is the message.
	Error string `json:"error,omitempty"`
	// User is true when the failure is the user's to fix (exit status 2).
	User bool `json:"user,omitempty"`
}
