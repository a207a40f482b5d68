// Package supervisorbin carries the small vmlite-supervisor binary
// (cmd/vmlite-supervisor, the __supervise role alone) inside vmlite, so
// that vmlite stays one file to install and the two can never come from
// different builds.
package supervisorbin

import (
	"embed"
	"io"
	"io/fs"
)

//go:embed blob
var blob embed.FS

const name = "blob/vmlite-supervisor"

// Size returns the size of the embedded vmlite-supervisor, 0 when this
// build has none (built with plain `go build`, not `make build`). It
// copies nothing.
func Size() int64 {
	fi, err := fs.Stat(blob, name)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// WriteTo copies the embedded vmlite-supervisor to w.
func WriteTo(w io.Writer) error {
	f, err := blob.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
