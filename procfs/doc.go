// Package procfs serves the /proc files that programs size themselves from
// (meminfo, cpuinfo, stat, uptime, loadavg, swaps, diskstats and
// /sys/devices/system/cpu/online) as each guest should see them: its
// memory limit as MemTotal, its CPUs, its own CPU time and uptime. It is
// LXCFS's design, in Go, served by package internal/fuseraw (one
// goroutine, one request buffer: go-fuse, which the issue suggested and
// the server used before, cost about 1.5 MiB of the server's memory on its
// own; fuseraw's doc says why): node ids encode the tree and the entry
// (ids.go), so the server keeps no object per node or per guest beyond a
// slot number and the registry entry. It runs from a binary of its own,
// cmd/vmlite-procfs, embedded in vmlite and written out by the
// supervisors as LIB/bin/procfs-ID (`vmlite __procfs` where the build
// embeds none).
//
// One server per host (per state root), shared by every guest: a FUSE
// filesystem mounted at RUN/procfs/mnt by host root (read-only,
// allow_other, default_permissions), started by the supervisor of the first
// guest that needs it (Layout.Attach, under the host-wide RUN/procfs/lock,
// so that only one starts) and ending when the last guest is gone.
//
// Who is reading. Each open carries the caller's pid (in the server's, the
// host's, pid namespace). The server reads /proc/PID/cgroup (in the host's
// cgroup namespace the path is absolute) and finds the registered guest
// whose cgroup holds it, its own directory or a child (a systemd guest's
// services). Guests are registered by their supervisors in RUN/procfs/guests
// (one small JSON file each: cgroup partition and name, start time, init's
// pid); the server keeps the registry in memory and reloads it when the
// directory changes. A process of no registered guest gets the host's own
// file. A guest whose cgroup is gone gets EIO, never other numbers. So an
// open costs one stat, the reader's cgroup file and the two to five cgroup
// files of the file asked for (LXCFS instead looks up the init of the
// reader's pid namespace; vmlite's cgroup names the guest directly). The
// answer is computed at open and served from that snapshot, with direct I/O,
// so a `setmem` shows at the next open.
//
// In the guest. The supervisor clones the guest's files from the mount
// (open_tree, read-only; supervisor/procfstrees_linux.go) while __init
// starts, and __init attaches them over the guest's own (move_mount;
// initsys/procfs_linux.go; a file without a clone is bound by path from
// plan.Paths.ProcFS) right after mounting /proc and /sys, before the
// guest's init runs; the kernel's /proc stays under them. A guest opts out with
// <vmlite:procfs state='off'/>.
//
// When the server dies. Its FUSE connection is aborted with its /dev/fuse
// descriptor, so reads in guests fail with ENOTCONN at once; nothing hangs.
// The server holds RUN/procfs/server.lock (flock, exclusive) for its whole
// life, and every supervisor with a served guest waits for a shared lock on
// it (Layout.Watch): when it is granted, the server is gone; the first
// supervisor to take RUN/procfs/lock starts a new one, the others find it
// running. A bind of a dead FUSE mount stays dead, so the new server
// (before it says it is ready) binds its files again inside each running
// guest's mount namespace (Rebind: open_tree clones in the host's
// namespace, setns into the guest's init's, move_mount over the dead
// binds). LXCFS leaves that to the container manager (LXC's hooks, or
// remount scripts that nsenter each container); here the server does it,
// because it knows every guest it serves. A stopped or hung server holds
// its lock: the supervisors' guard (hang_linux.go) aborts its connection
// and kills it, so that it is restarted as a dead one is. Mount namespaces
// the guest's processes made themselves (a systemd service's PrivateTmp,
// unshare -m) are bound again too, after the server says it is ready
// (RebindOthers: found from the processes in the guest's cgroup, at most
// 64 per guest).
package procfs
