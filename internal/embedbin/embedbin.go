// Package embedbin is the one reader of the helper binaries that make
// build embeds in vmlite (internal/initbin, procfsbin, supervisorbin):
// each of those packages holds its own //go:embed (the directive must sit
// beside the files) and hands the file system to a Blob.
package embedbin

import (
	"io"
	"io/fs"
)

// Blob is one embedded binary: Name inside FS.
type Blob struct {
	FS   fs.FS
	Name string
}

// Size returns the blob's size, 0 when this build has none (built with
// plain `go build`, not `make build`). It copies nothing.
func (b Blob) Size() int64 {
	fi, err := fs.Stat(b.FS, b.Name)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// CopyTo copies the blob to w.
func (b Blob) CopyTo(w io.Writer) error {
	f, err := b.FS.Open(b.Name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
