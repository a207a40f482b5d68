// Package lazyre is a regular expression compiled on first use.
//
// Every vmlite process runs the package initialisers of the whole binary:
// the CLI, each guest's supervisor and each guest's __init. A package-level
// regexp.MustCompile costs that compile in all of them, and counted
// repetitions ({0,63}) make it expensive: the validation regexps were a
// large share of the CPU time of starting `vmlite __init` (perf, see
// bench/README.md).
// Only the CLI ever matches them.
package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled on first use. The expression is
// a constant of the program, so a syntax error panics as MustCompile does
// (the package's tests compile every one).
type Regexp struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

// New returns expr, to be compiled on first use.
func New(expr string) *Regexp { return &Regexp{expr: expr} }

// Re is the compiled expression.
func (r *Regexp) Re() *regexp.Regexp {
	r.once.Do(func() { r.re = regexp.MustCompile(r.expr) })
	return r.re
}

// MatchString reports whether s contains a match of the expression.
func (r *Regexp) MatchString(s string) bool { return r.Re().MatchString(s) }

// String is the source text of the expression.
func (r *Regexp) String() string { return r.expr }
