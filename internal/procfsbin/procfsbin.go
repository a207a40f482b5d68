// Package procfsbin carries the small vmlite-procfs binary
// (cmd/vmlite-procfs, the /proc server alone) inside vmlite, so that
// vmlite stays one file to install and the two can never come from
// different builds.
package procfsbin

import (
	"embed"
	"io"

	"vmlite/internal/embedbin"
)

//go:embed blob
var blob embed.FS

var bin = embedbin.Blob{FS: blob, Name: "blob/vmlite-procfs"}

// Size returns the size of the embedded vmlite-procfs, 0 when this build has
// none (built with plain `go build`, not `make build`).
func Size() int64 { return bin.Size() }

// WriteTo copies the embedded vmlite-procfs to w.
func WriteTo(w io.Writer) error { return bin.CopyTo(w) }
