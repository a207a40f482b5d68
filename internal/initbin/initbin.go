// Package initbin carries the small vmlite-init binary (cmd/vmlite-init)
// inside vmlite, so that vmlite stays one file to install and the two can
// never come from different builds.
package initbin

import (
	"embed"
	"io"

	"vmlite/internal/embedbin"
)

//go:embed blob
var blob embed.FS

var bin = embedbin.Blob{FS: blob, Name: "blob/vmlite-init"}

// Size returns the size of the embedded vmlite-init, 0 when this build has
// none (built with plain `go build`, not `make build`).
func Size() int64 { return bin.Size() }

// WriteTo copies the embedded vmlite-init to w.
func WriteTo(w io.Writer) error { return bin.CopyTo(w) }
