// Package fuseraw serves a read-only FUSE filesystem from one goroutine
// with one request buffer and one reply buffer: the kernel's protocol
// (7.31) for the requests such a filesystem gets (INIT, LOOKUP, GETATTR,
// OPEN, READ, RELEASE, OPENDIR, READDIR, RELEASEDIR, STATFS, FORGET,
// BATCH_FORGET, INTERRUPT, DESTROY; ENOSYS for the rest, FLUSH among
// them), the mount(2) of /dev/fuse, and entry invalidation.
//
// Why not github.com/hanwen/go-fuse/v2, the well-kept library the rest of
// vmlite uses (the image store's FUSE mounts): the host-wide /proc server
// (package procfs) is a daemon whose memory is measured against LXCFS's,
// and go-fuse's server alone, answering one constant file, holds about
// 1.5 MiB of private dirty memory against 0.6 MiB for a Go program that
// only sleeps (its reader goroutines and their threads, request and reply
// buffers of MaxWrite each, pools, the per-request objects); the /proc
// server on it had 4.0-4.4 MiB, on this package 2.9 (bench/README.md, "The
// procfs section"). A filesystem of a few fixed files needs so little of
// the protocol that serving it is smaller than configuring go-fuse
// down. Requests are answered one at a time: an answer is a few reads
// of cgroup files, and one reader means one thread in read(2).
package fuseraw
