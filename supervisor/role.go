// Package supervisor is the process that supervises guests (`vmlite
// __supervise`).
//
// A supervisor process hosts up to VMLITE_GUESTS_PER_SUPERVISOR guests (a
// "pool", pool_linux.go; 1 = a dedicated process per guest), detached from
// any terminal (setsid, stdio on a log file), so it survives the CLI and
// the user's logout. For each guest, a Supervisor value:
//
//   - holds the guest's lock (passed by `vmlite start`: fd 5, or over the
//     pool socket) for the guest's life: a held lock is what "running" means;
//   - owns the console pty masters and their multiplexers;
//   - is the parent of the guest's init, reaps it and applies
//     <on_poweroff>/<on_reboot>/<on_crash>;
//   - serves the control socket (stop, destroy, reboot, status);
//   - records state.json atomically, and last/NAME.json when the guest ends.
//
// Lifecycle of one guest in its supervisor:
//
//	plan (fd 3, or the pool socket) -> set up host -> boot -> report to CLI
//	                                               |  failure: roll back, report
//	                  +--------------------------> |
//	                  | restart (reboot, on_*)     v
//	                  +-------------------- wait for init to exit
//	                                               |
//	                         tear down: kill what is left in the guest's cgroup,
//	                         remove links, cgroup, sockets, run dir; write last state;
//	                         release the lock; the process ends with its last guest
//
// Resources are registered on revert stacks as they are made: hostRevert
// for the guest's run (ptys, cgroup, run dir), bootRevert for one
// boot of the guest (network links). Start failures and normal teardown run
// the same undo functions.
package supervisor

import "vmlite/supervisor/ctl"

// Role is the hidden argv[1] that selects this role (ctl's, which the
// front binary links).
const Role = ctl.Role
