package domain

// TEMPORARY in branch core until the domain package lands; deleted on rebase.

import (
	"fmt"
	"strings"
)

type FieldError struct {
	File  string
	Line  int
	Path  string
	Value string
	Msg   string
	Hint  string
}

func (e *FieldError) Error() string     { return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Path, e.Msg) }
func (e *FieldError) UserError() bool   { return true }

type Errors []*FieldError

func (es Errors) Error() string {
	var s []string
	for _, e := range es {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}
func (es Errors) UserError() bool { return true }

func ScaledBytes(value uint64, unit string) (uint64, error) {
	m := map[string]uint64{"": 1024, "b": 1, "bytes": 1, "k": 1024, "kib": 1024, "kb": 1000, "m": 1 << 20, "mib": 1 << 20, "mb": 1e6, "g": 1 << 30, "gib": 1 << 30, "gb": 1e9}
	f, ok := m[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q", unit)
	}
	return value * f, nil
}
