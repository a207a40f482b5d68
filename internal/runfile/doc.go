// Package runfile holds the state tree's file primitives: host-wide
// flock()ed lock files and files replaced atomically. They live apart from
// package state so that small long-lived binaries (the /proc server,
// cmd/vmlite-procfs) take them without state's other imports (its
// instance id hashes with crypto/sha256); package state keeps its names
// for them.
package runfile

// RunDirMode is the mode of the run root and of each guest's runtime
// directory: traversable (not listable) by everyone, because a mapped
// guest's root attaches its root filesystem in there; everything inside is
// root's alone (sockets and files 0600, control requests check the peer).
const RunDirMode = 0o711
