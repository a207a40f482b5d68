// Package uuid makes and reads the UUIDs of guests and networks. Every UUID
// vmlite stores or hands on is in the canonical form Canonical returns.
package uuid

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
)

// New returns a random (version 4) UUID in canonical form.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ErrSyntax is returned for a string that is not a UUID.
var ErrSyntax = errors.New("not a UUID")

// Canonical reads libvirt's two spellings, 32 hex digits with no dashes or
// in 8-4-4-4-12 groups, in either case, and returns the lower-case
// 8-4-4-4-12 form. The all-zero UUID is refused, as libvirt refuses it.
func Canonical(s string) (string, error) {
	s = strings.TrimSpace(s)
	var h string
	switch len(s) {
	case 32:
		h = s
	case 36:
		for _, i := range []int{8, 13, 18, 23} {
			if s[i] != '-' {
				return "", ErrSyntax
			}
		}
		h = s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	default:
		return "", ErrSyntax
	}
	if strings.Trim(strings.ToLower(h), "0123456789abcdef") != "" {
		return "", ErrSyntax
	}
	if strings.Trim(h, "0") == "" {
		return "", errors.New("the all-zero UUID is not allowed")
	}
	h = strings.ToLower(h)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}
