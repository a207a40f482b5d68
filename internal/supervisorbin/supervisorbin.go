// Package supervisorbin carries the small vmlite-supervisor binary
// (cmd/vmlite-supervisor, the __supervise role alone) inside vmlite, so
// that vmlite stays one file to install and the two can never come from
// different builds.
package supervisorbin

import (
	"embed"
	"io"

	"vmlite/internal/embedbin"
)

//go:embed blob
var blob embed.FS

var bin = embedbin.Blob{FS: blob, Name: "blob/vmlite-supervisor"}

// Size returns the size of the embedded vmlite-supervisor, 0 when this build has
// none (built with plain `go build`, not `make build`).
func Size() int64 { return bin.Size() }

// WriteTo copies the embedded vmlite-supervisor to w.
func WriteTo(w io.Writer) error { return bin.CopyTo(w) }
