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
