// Package inroot opens files of a guest's root filesystem from the host
// the way the guest would resolve them: symlinks (absolute or with "..")
// never leave the root, magic links (/proc/PID/root...) are refused, and
// only regular files are opened, without blocking. The host reads a guest's
// files as root; a guest-made symlink must not lead that read into the
// host, nor a FIFO hang it.
package inroot

import "errors"

// ErrNotRegular means the path leads to a FIFO, device, socket or directory.
var ErrNotRegular = errors.New("not a regular file")
