// Package xpath writes the XPath-like paths that every vmlite error about
// an XML document names (/domain/devices/interface[2]/source/@bridge), so
// that one element reads the same whichever layer reports it: the strict
// pass, the launch builder, the supervisor or the guest's init stage.
package xpath

import (
	"strconv"
	"strings"
)

// Child is the path of the i-th (from 0) of n sibling elements called name
// below the element at parent. The index is XPath's, from 1, and appears
// only when there are several (n > 1), so that the common case reads
// /domain/devices/interface/ip/@address.
func Child(parent, name string, i, n int) string {
	p := parent + "/" + name
	if n > 1 {
		p += "[" + strconv.Itoa(i+1) + "]"
	}
	return p
}

// Attr is the path of attribute name of the element at elem.
func Attr(elem, name string) string { return elem + "/@" + name }

// Elem is the element a path names: the path itself, or for an attribute's
// path the element that holds it.
func Elem(path string) string {
	if i := strings.Index(path, "/@"); i >= 0 {
		return path[:i]
	}
	return path
}
