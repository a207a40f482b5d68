package supervisor

import "runtime"

// runtimeKeepAlive keeps the lock file open until the supervisor exits: the
// lock is released by the kernel when the process ends, not before.
func runtimeKeepAlive(x any) { runtime.KeepAlive(x) }
