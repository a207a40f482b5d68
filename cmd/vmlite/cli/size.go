package cli

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"vmlite/domain"
	"vmlite/internal/errdefs"
)

// parseScaledSize reads a size the way virsh does (virScaleInteger): an
// integer with an optional unit, case-insensitive: b/byte/bytes; k, KiB (1024)
// or KB (1000), and the same for M, G, T, P, E (domain.ScaledBytes, the
// table the XML's unit attributes use). Without a unit the value is in KiB,
// as virsh setmem and memtune take it. It returns bytes.
func parseScaledSize(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	if num == "" {
		return 0, fmt.Errorf("size %q: want a number with an optional unit such as 512M or 1G: %w", s, errdefs.ErrInvalid)
	}
	v, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, errdefs.ErrInvalid)
	}
	b, err := domain.ScaledBytes(v, unit)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	if b > 1<<62 {
		return 0, fmt.Errorf("size %q: too large: %w", s, errdefs.ErrInvalid)
	}
	return b, nil
}

// parseLimitSize is parseScaledSize that also takes "-1" or "unlimited"
// for no limit (0), as virsh memtune does.
func parseLimitSize(s string) (uint64, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "-1", "unlimited":
		return 0, nil
	}
	return parseScaledSize(s)
}

// kib renders bytes in KiB as virsh prints sizes, "unlimited" for 0.
func kib(b uint64) string {
	if b == 0 {
		return "unlimited"
	}
	return strconv.FormatUint(b/1024, 10)
}
