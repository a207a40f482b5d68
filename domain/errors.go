package domain

import (
	"fmt"
	"strings"

	"vmlite/internal/errdefs"
)

// FieldError is one problem in a domain file, located by line and by an
// XPath-like path such as /domain/devices/interface[2]/ip/@address.
type FieldError struct {
	File  string
	Line  int    // 1-based; 0 when unknown
	Path  string // "" for document-level problems (syntax errors)
	Value string // the offending value, "" when there is none
	Msg   string
	Hint  string // the fix, when one is obvious
}

// Error prints FILE:LINE: PATH: MSG (got "VALUE"); fix: HINT.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(location(e.File, e.Line))
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Value != "" {
		fmt.Fprintf(&b, " (got %q)", e.Value)
	}
	if e.Hint != "" {
		b.WriteString("; fix: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// UserError marks a FieldError as the user's to fix (exit status 2).
func (e *FieldError) UserError() bool { return true }

func location(file string, line int) string {
	if file == "" {
		file = "<input>"
	}
	if line > 0 {
		return fmt.Sprintf("%s:%d: ", file, line)
	}
	return file + ": "
}

// Errors are all the problems found in one file, in document order.
type Errors []*FieldError

// Error prints one line per problem.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// UserError marks Errors as the user's to fix: the CLI exits with status 2.
func (es Errors) UserError() bool { return true }

// Unwrap gives errors.As/Is access to each problem, and makes
// errors.Is(err, errdefs.ErrInvalid) hold (domain and network XML alike).
func (es Errors) Unwrap() []error {
	out := make([]error, len(es), len(es)+1)
	for i, e := range es {
		out[i] = e
	}
	return append(out, errdefs.ErrInvalid)
}

// Warning is something vmlite accepts but does not act on.
type Warning struct {
	File string
	Line int
	Path string
	Msg  string
}

// String prints FILE:LINE: PATH: MSG.
func (w Warning) String() string {
	s := location(w.File, w.Line)
	if w.Path != "" {
		s += w.Path + ": "
	}
	return s + w.Msg
}

// As lets callers unwrap the *Errors that Parse returns into either an
// *Errors or an Errors variable.
func (es *Errors) As(target any) bool {
	if t, ok := target.(*Errors); ok {
		*t = *es
		return true
	}
	return false
}
