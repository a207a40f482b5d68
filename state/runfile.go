package state

import (
	"os"

	"vmlite/internal/runfile"
)

// The lock and atomic-file primitives live in package runfile (so that
// the /proc server links them without this package); these are their
// names for the rest of vmlite.

// ErrLocked is returned by TryLock when another process holds the lock.
var ErrLocked = runfile.ErrLocked

// TryLock takes an exclusive flock of path without blocking (runfile.TryLock).
func TryLock(path string) (*os.File, error) { return runfile.TryLock(path) }

// Lock waits for an exclusive flock of path (runfile.Lock).
func Lock(path string) (*os.File, error) { return runfile.Lock(path) }

// Held reports whether some process holds the lock at path (runfile.Held).
func Held(path string) (bool, error) { return runfile.Held(path) }

// WriteFileAtomic replaces path durably (runfile.WriteFileAtomic).
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	return runfile.WriteFileAtomic(path, data, mode)
}

// WriteRuntimeFile replaces path without fsyncs (runfile.WriteRuntimeFile).
func WriteRuntimeFile(path string, data []byte, mode os.FileMode) error {
	return runfile.WriteRuntimeFile(path, data, mode)
}

// Sync makes a file written by WriteRuntimeFile durable (runfile.Sync).
func Sync(path string) error { return runfile.Sync(path) }

// RunDirMode is the mode of the run root and of each guest's runtime
// directory (runfile.RunDirMode).
const RunDirMode = runfile.RunDirMode
