package templates

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"vmlite/internal/errdefs"
)

// sizeShifts maps a unit to the shift that turns it into KiB.
var sizeShifts = map[string]uint{
	"k": 0, "kib": 0,
	"": 10, "m": 10, "mib": 10,
	"g": 20, "gib": 20,
	"t": 30, "tib": 30,
}

// ParseSize reads a memory size for a template flag and returns it in KiB
// (the unit libvirt's <memory> defaults to). A bare number is MiB; the
// suffixes K, M, G, T (optionally followed by "iB", any case) are powers of
// 1024. Decimal units (MB, GB) are refused rather than guessed.
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	if num == "" {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (256M, 1G): %w", s, errdefs.ErrInvalid)
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w: %w", s, errdefs.ErrInvalid, err)
	}
	shift, ok := sizeShifts[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (want K, M, G or T, powers of 1024): %w", s, unit, errdefs.ErrInvalid)
	}
	if n > math.MaxUint64>>shift {
		return 0, fmt.Errorf("size %q: too large: %w", s, errdefs.ErrInvalid)
	}
	kib := n << shift
	if kib < 1024 {
		return 0, fmt.Errorf("size %q: a guest needs at least 1 MiB: %w", s, errdefs.ErrInvalid)
	}
	return kib, nil
}
