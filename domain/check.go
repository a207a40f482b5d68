package domain

import (
	"fmt"
	"sort"
	"strings"
)

// checker collects the problems of one file.
type checker struct {
	file     string
	errs     Errors
	warns    []Warning
	rejected map[*node]bool            // nodes reported as not supported: later checks skip them
	typos    map[*node]map[string]bool // parent -> names suggested for unknown children
	// foreign holds the metadata children of other namespaces, kept verbatim.
	foreign []*node
	// dropped holds the unknown elements that were warned about: libvirt
	// drops them, and so does the decoded definition.
	dropped []*node
}

func newChecker(file string) *checker {
	return &checker{file: file, rejected: map[*node]bool{}, typos: map[*node]map[string]bool{}}
}

func (c *checker) errorf(line int, path, value, hint, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{File: c.file, Line: line, Path: path, Value: value, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (c *checker) warnf(line int, path, format string, args ...any) {
	// One warning per thing: <clock offset='utc'/> warns about the offset,
	// not also about the clock on the same line.
	if k := len(c.warns); k > 0 && c.warns[k-1].Line == line && strings.HasPrefix(path, c.warns[k-1].Path) {
		c.warns[k-1] = Warning{File: c.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
		return
	}
	c.warns = append(c.warns, Warning{File: c.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fail reports a check failure for value at path.
func (c *checker) fail(line int, path, value string, err error) {
	msg, hint := splitHint(err)
	c.errs = append(c.errs, &FieldError{File: c.file, Line: line, Path: path, Value: value, Msg: msg, Hint: hint})
}

// notSupported reports a rejected element, attribute or value.
func (c *checker) notSupported(line int, path, value, what, hint string) {
	c.errorf(line, path, value, hint, "not supported by vmlite: %s", what)
}

// walk checks n against spec and recurses into its children.
func (c *checker) walk(n *node, spec *elemSpec) {
	if spec.class == Warned {
		c.warnf(n.line, n.path, "ignored: %s", spec.doc)
		if spec.opaque {
			return
		}
	}
	stop := c.checkAttrs(n, spec)
	if stop {
		// A rejected type makes the rest of the element meaningless:
		// report it once rather than every attribute it no longer allows.
		c.rejected[n] = true
		return
	}
	c.checkText(n, spec)
	c.checkChildren(n, spec)
}

// checkAttrs checks every attribute; it reports whether a rejected value
// makes the element unsupported as a whole.
func (c *checker) checkAttrs(n *node, spec *elemSpec) (rejected bool) {
	seen := map[string]bool{}
	typos := map[string]bool{} // attributes that an unknown one probably meant
	for _, a := range n.attrs {
		if a.name.Space == "xmlns" || (a.name.Space == "" && a.name.Local == "xmlns" && a.prefix == "") {
			continue // namespace declarations
		}
		p := n.path + "/@" + a.name.Local
		if a.prefix != "" {
			p = n.path + "/@" + a.prefix + ":" + a.name.Local
		}
		if a.name.Space != "" {
			c.warnf(a.line, p, "ignored: unknown attribute %s:%s (libvirt drops attributes it does not know)", a.prefix, a.name.Local)
			continue
		}
		as := findAttr(spec, a.name.Local)
		if as == nil {
			// libvirt ignores attributes it does not know; a likely typo of
			// one it knows is an error, as the setting would be lost.
			if s := suggest(a.name.Local, attrNames(spec)); s != "" {
				typos[s] = true
				c.errorf(a.line, p, "", "did you mean "+s+"=?", "unknown attribute %s of <%s>", a.name.Local, n.qname())
				continue
			}
			if spec.strict || spec.ns == VmliteNS {
				c.errorf(a.line, p, "", "remove it", "unknown attribute %s of <%s>", a.name.Local, n.qname())
				continue
			}
			c.warnf(a.line, p, "ignored: unknown attribute %s of <%s> (libvirt drops attributes it does not know)", a.name.Local, n.qname())
			continue
		}
		seen[as.name] = true
		switch as.class {
		case Rejected:
			c.notSupported(a.line, p, a.value, as.doc, as.hint)
			continue
		case Warned:
			c.warnf(a.line, p, "ignored: %s", as.doc)
		}
		if as.values != nil {
			vs := findValue(as.values, a.value)
			switch {
			case vs == nil:
				c.errorf(a.line, p, a.value, valueHint(a.value, as.values), "must be one of %s", valueList(as.values))
				continue
			case vs.class == Rejected:
				c.notSupported(a.line, p, a.value, vs.doc, vs.hint)
				if (as.name == "type" || as.name == "mode") && n.parent != nil {
					rejected = true
				}
				continue
			case vs.class == Warned:
				c.warnf(a.line, p, "ignored: %s='%s': %s", as.name, a.value, vs.doc)
			}
		}
		if as.check != nil {
			if err := as.check(a.value); err != nil {
				c.fail(a.line, p, a.value, err)
			}
		}
	}
	if rejected {
		return true
	}
	for _, as := range spec.attrs {
		if as.required && !seen[as.name] && !typos[as.name] {
			c.errorf(n.line, attrPath(n, as.name), "", "", "missing attribute %s of <%s>", as.name, n.qname())
		}
	}
	return false
}

func (c *checker) checkText(n *node, spec *elemSpec) {
	t := n.trimmedText()
	switch {
	case spec.text == nil && spec.values == nil:
		if t != "" {
			c.errorf(n.line, n.path, clip(t), "", "<%s> takes no text", n.qname())
		}
	case spec.values != nil:
		vs := findValue(spec.values, t)
		switch {
		case vs == nil:
			c.errorf(n.line, n.path, t, valueHint(t, spec.values), "must be one of %s", valueList(spec.values))
		case vs.class == Rejected:
			c.notSupported(n.line, n.path, t, vs.doc, vs.hint)
			c.rejected[n] = true
		case vs.class == Warned:
			c.warnf(n.line, n.path, "ignored: %s", vs.doc)
		}
	default:
		if err := spec.text(t); err != nil {
			c.fail(n.line, n.path, t, err)
		}
	}
}

func (c *checker) checkChildren(n *node, spec *elemSpec) {
	firstLine := map[string]int{}
	for _, ch := range n.children {
		if spec.foreign && ch.name.Space != VmliteNS {
			if ch.name.Space == "" {
				c.errorf(ch.line, ch.path, "", "declare a namespace: <app:"+ch.name.Local+" xmlns:app='https://example.com/app'>", "metadata elements must be in their own XML namespace")
				continue
			}
			c.foreign = append(c.foreign, ch)
			continue
		}
		cs := findChild(spec, ch.name.Space, ch.name.Local)
		if cs == nil {
			c.unknownElement(n, ch, spec)
			continue
		}
		key := cs.ns + " " + cs.name
		if first, dup := firstLine[key]; dup && !cs.multi && cs.class != Rejected {
			c.errorf(ch.line, ch.path, "", "remove one of them", "<%s> appears more than once (first at line %d)", ch.qname(), first)
			continue
		}
		if _, dup := firstLine[key]; !dup {
			firstLine[key] = ch.line
		}
		if cs.class == Rejected {
			c.notSupported(ch.line, ch.path, "", cs.doc, cs.hint)
			c.rejected[ch] = true
			continue
		}
		c.walk(ch, cs)
	}
	names := make([]string, 0, len(spec.required))
	for name := range spec.required {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if n.child(name) == nil && !c.typos[n][name] {
			c.errorf(n.line, n.path+"/"+name, "", "", "%s", spec.required[name])
		}
	}
}

func (c *checker) unknownElement(parent, ch *node, spec *elemSpec) {
	if ch.name.Space != "" && ch.name.Space != VmliteNS && ch.name.Space != lxcNS {
		// libvirt ignores elements of namespaces it has no parser for.
		c.warnf(ch.line, ch.path, "ignored: unknown element <%s> in namespace %s (libvirt drops it)", ch.qname(), ch.name.Space)
		c.dropped = append(c.dropped, ch)
		return
	}
	var names []string
	for _, cs := range spec.children {
		if cs.ns == ch.name.Space {
			names = append(names, cs.name)
		}
	}
	hint := ""
	if s := suggest(ch.name.Local, names); s != "" {
		q := s
		if ch.prefix != "" {
			q = ch.prefix + ":" + s
		}
		hint = "did you mean <" + q + ">?"
		if c.typos[parent] == nil {
			c.typos[parent] = map[string]bool{}
		}
		c.typos[parent][s] = true
	}
	if hint == "" && !spec.strict && ch.name.Space == "" {
		// libvirt's parser drops elements it does not know; a likely typo
		// of a known one (above) stays an error, as its setting would be
		// lost, and so does anything where libvirt is strict itself.
		c.warnf(ch.line, ch.path, "ignored: unknown element <%s> in <%s> (libvirt drops elements it does not know)", ch.qname(), parent.qname())
		c.dropped = append(c.dropped, ch)
		return
	}
	if hint == "" {
		hint = "remove it"
	}
	c.errorf(ch.line, ch.path, "", hint, "unknown element <%s> in <%s>", ch.qname(), parent.qname())
}

func findAttr(spec *elemSpec, name string) *attrSpec {
	for _, a := range spec.attrs {
		if a.name == name {
			return a
		}
	}
	return nil
}

func attrNames(spec *elemSpec) []string {
	out := make([]string, len(spec.attrs))
	for i, a := range spec.attrs {
		out[i] = a.name
	}
	return out
}

func findChild(spec *elemSpec, space, local string) *elemSpec {
	for _, cs := range spec.children {
		if cs.ns == space && cs.name == local {
			return cs
		}
	}
	return nil
}

func findValue(vs []*valueSpec, v string) *valueSpec {
	for _, s := range vs {
		if s.value == v {
			return s
		}
	}
	return nil
}

// valueList names the values vmlite accepts, for messages.
func valueList(vs []*valueSpec) string {
	var ok []string
	for _, v := range vs {
		if v.class != Rejected {
			ok = append(ok, v.value)
		}
	}
	return strings.Join(ok, ", ")
}

// valueHint suggests the accepted value closest to a typo.
func valueHint(v string, vs []*valueSpec) string {
	var ok []string
	for _, s := range vs {
		if s.class != Rejected {
			ok = append(ok, s.value)
		}
	}
	if s := suggest(v, ok); s != "" {
		return "did you mean '" + s + "'?"
	}
	return ""
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// suggest returns the candidate closest to s when it is close enough to be
// a typo (edit distance at most 2, or 1 for short names).
func suggest(s string, candidates []string) string {
	if len(s) > 64 {
		return "" // no name vmlite knows is that long; spare the quadratic distance
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(s) <= 4 {
		limit = 1
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// editDistance is the Damerau-Levenshtein (optimal string alignment)
// distance, so that a swapped pair of letters counts as one typo.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
