package image

import (
	"errors"
	"fmt"
	"strings"
)

// Layer tar conventions (OCI image spec, "Whiteouts"): an entry named
// .wh.NAME deletes NAME of the layers below; .wh..wh..opq in a directory
// hides everything the layers below have in it. vmlite stores each layer as
// an overlayfs lower directory, so they become what overlayfs reads: a 0:0
// character device, and the trusted.overlay.opaque xattr.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// ErrBadEntry marks a tar entry vmlite refuses to store.
var ErrBadEntry = errors.New("refused layer entry")

// entryKind is what a tar entry name asks for.
type entryKind int

const (
	entryPlain    entryKind = iota // create or replace the path
	entryWhiteout                  // delete the path from the layers below
	entryOpaque                    // hide the lower layers' content of the directory
)

// entry is a tar entry name, checked and split.
type entry struct {
	kind entryKind
	// Dir is the parent directory, relative to the layer's root ("" is the
	// root); Base the last component ("" for the root itself).
	Dir, Base string
}

// Path is the entry's path relative to the layer's root ("" is the root).
func (e entry) Path() string {
	if e.Dir == "" {
		return e.Base
	}
	return e.Dir + "/" + e.Base
}

// parseEntry checks a tar entry name: a path relative to the layer's root
// (a leading / or ./ is dropped, as tar does), no ".." component (tar
// archives that climb out are refused, not cleaned into something else), no
// NUL; whiteouts of the root are refused. For whiteouts, Base is the name
// whited out.
func parseEntry(name string) (entry, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return entry{}, fmt.Errorf("%w: %q: NUL in the name", ErrBadEntry, name)
	}
	var parts []string
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "", ".":
			continue
		case "..":
			return entry{}, fmt.Errorf("%w: %q: a \"..\" component leaves the image's root", ErrBadEntry, name)
		}
		parts = append(parts, c)
	}
	if len(parts) == 0 {
		return entry{kind: entryPlain}, nil
	}
	for _, c := range parts[:len(parts)-1] {
		// A directory can't carry a whiteout's name: the entry would be a
		// whiteout (or an opaque marker) of something inside a whiteout.
		if strings.HasPrefix(c, whiteoutPrefix) {
			return entry{}, fmt.Errorf("%w: %q: a whiteout name (%s) as a directory", ErrBadEntry, name, c)
		}
	}
	e := entry{Dir: strings.Join(parts[:len(parts)-1], "/"), Base: parts[len(parts)-1]}
	switch {
	case e.Base == opaqueMarker:
		if e.Dir == "" {
			return entry{}, fmt.Errorf("%w: %q: an opaque whiteout of / would hide every layer below", ErrBadEntry, name)
		}
		// The directory itself is the entry.
		i := strings.LastIndexByte(e.Dir, '/')
		e = entry{kind: entryOpaque, Dir: e.Dir[:max(i, 0)], Base: e.Dir[i+1:]}
	case strings.HasPrefix(e.Base, whiteoutPrefix):
		target := strings.TrimPrefix(e.Base, whiteoutPrefix)
		switch target {
		case "", ".", "..":
			return entry{}, fmt.Errorf("%w: %q: a whiteout of / (or of no name)", ErrBadEntry, name)
		}
		if strings.HasPrefix(target, whiteoutPrefix) {
			return entry{}, fmt.Errorf("%w: %q: a whiteout of a whiteout", ErrBadEntry, name)
		}
		e = entry{kind: entryWhiteout, Dir: e.Dir, Base: target}
	}
	return e, nil
}

// parseLinkTarget checks a hard link's target, an entry name of the same
// layer: it must name a path below the root, not a whiteout.
func parseLinkTarget(name string) (entry, error) {
	e, err := parseEntry(name)
	if err != nil {
		return e, err
	}
	if e.kind != entryPlain || e.Base == "" {
		return entry{}, fmt.Errorf("%w: hard link to %q: not a file of the layer", ErrBadEntry, name)
	}
	return e, nil
}

// refusedXattr reports whether a layer may not carry the extended attribute
// name: overlayfs's own (trusted.overlay.*, user.overlay.*) would change
// what the stored layer means to overlayfs (redirects, metacopy, opaque
// flags the tar did not ask for).
func refusedXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
}
