// Package supervisor is the per-guest process (`vmlite __supervise`).
//
// One supervisor runs per running guest, detached from any terminal (setsid,
// stdio on its log file), so it survives the CLI and the user's logout. It:
//
//   - holds the guest's lock (inherited from `vmlite start` on fd 5) for its
//     whole life: a held lock is what "running" means;
//   - owns the console pty masters and their multiplexers;
//   - is the parent of the guest's init, reaps it and applies
//     <on_poweroff>/<on_reboot>/<on_crash>;
//   - serves the control socket (stop, destroy, reboot, status);
//   - records state.json atomically, and last/NAME.json when the guest ends.
//
// Lifecycle of one supervisor:
//
//	read plan (fd 3) -> set up host resources -> boot ------> report to CLI (fd 4)
//	                                               |  failure: roll back, report, exit 1
//	                  +--------------------------> |
//	                  | restart (reboot, on_*)     v
//	                  +-------------------- wait for init to exit
//	                                               |
//	                         tear down: kill what is left in the guest's cgroup,
//	                         remove links, cgroup, sockets, run dir; write last state; exit
//
// Resources are registered on revert stacks as they are made: hostRevert
// for the supervisor's lifetime (ptys, cgroup, run dir), bootRevert for one
// boot of the guest (network links). Start failures and normal teardown run
// the same undo functions.
package supervisor

// Role is the hidden argv[1] that selects this role.
const Role = "__supervise"
