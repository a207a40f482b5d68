package domain

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// node is one element of the document with the positions that messages need.
// encoding/xml's Unmarshal (which libvirtxml uses) forgets positions, and
// etree keeps none either, so vmlite builds this small tree itself from the
// token stream: every strict check runs on it.
type node struct {
	name     xml.Name // Space is the namespace URI ("" for libvirt's own elements)
	prefix   string   // the prefix as written, for paths
	attrs    []nattr
	children []*node
	text     []byte // concatenated character data directly inside the element
	line     int
	start    int // byte offset of '<'
	tagEnd   int // byte offset just after the start tag
	end      int // byte offset just after the end tag
	parent   *node
	path     string // /domain/devices/interface[2]
	// declared holds the namespace declarations made on this element.
	declared map[string]string
}

// nattr is an attribute with its line.
type nattr struct {
	name   xml.Name
	prefix string
	value  string
	line   int
}

// qname is the name as written: prefix:local or local.
func (n *node) qname() string {
	if n.prefix != "" {
		return n.prefix + ":" + n.name.Local
	}
	return n.name.Local
}

// attr returns the value of the un-namespaced attribute name.
func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		if a.name.Space == "" && a.name.Local == name {
			return a.value, true
		}
	}
	return "", false
}

// attrLine returns the line of attribute name, or the element's line.
func (n *node) attrLine(name string) int {
	for _, a := range n.attrs {
		if a.name.Space == "" && a.name.Local == name {
			return a.line
		}
	}
	return n.line
}

// child returns the first libvirt-namespace child called name.
func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name.Space == "" && c.name.Local == name {
			return c
		}
	}
	return nil
}

// all returns the libvirt-namespace children called name.
func (n *node) all(name string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.name.Space == "" && c.name.Local == name {
			out = append(out, c)
		}
	}
	return out
}

// trimmedText is the element's text without surrounding white space.
func (n *node) trimmedText() string { return string(bytes.TrimSpace(n.text)) }

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int

func newLineIndex(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, b := range data {
		if b == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (li lineIndex) line(off int) int {
	return sort.Search(len(li), func(i int) bool { return li[i] > off })
}

// maxDepth bounds nesting, as libxml2 (libvirt's parser) does by default;
// a domain is a handful of levels deep.
const maxDepth = 256

const xmlnsURI = "http://www.w3.org/XML/1998/namespace"

// readTree parses data into a node tree. Syntax errors come back as a
// FieldError with the line they were found on.
func readTree(file string, data []byte) (*node, *FieldError) {
	li := newLineIndex(data)
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var root *node
	var stack []*node
	synerr := func(line int, format string, args ...any) *FieldError {
		return &FieldError{File: file, Line: line, Msg: "XML syntax error: " + fmt.Sprintf(format, args...)}
	}
	for {
		off := int(d.InputOffset())
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				open := stack[len(stack)-1]
				return nil, synerr(li.line(len(data)), "unexpected end of file: <%s> opened at line %d is not closed (truncated file?)", open.qname(), open.line)
			}
			if root == nil {
				return nil, synerr(li.line(len(data)), "no <domain> element: the file is empty")
			}
			return root, nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg := se.Msg
				if msg == "unexpected EOF" {
					msg = "unexpected end of file inside a tag (truncated file?)"
				}
				return nil, synerr(se.Line, "%s", msg)
			}
			return nil, synerr(li.line(off), "%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line := li.line(off)
			if len(stack) >= maxDepth {
				return nil, synerr(line, "elements nested more than %d deep", maxDepth)
			}
			if len(stack) == 0 && root != nil {
				return nil, synerr(line, "a second top-level element <%s> after </%s>", t.Name.Local, root.qname())
			}
			n := &node{line: line, start: off, prefix: t.Name.Space, declared: map[string]string{}}
			n.name.Local = t.Name.Local
			tagEnd := int(d.InputOffset())
			n.tagEnd = tagEnd
			raw := data[off:min(tagEnd, len(data))]
			seen := make(map[xml.Name]bool, len(t.Attr))
			pos := 0 // attributes come in source order: each search starts after the last
			for _, a := range t.Attr {
				var line int
				line, pos = attrLine(li, off, raw, pos, a.Name)
				if seen[a.Name] {
					return nil, synerr(line, "attribute %s appears twice in <%s>", a.Name.Local, t.Name.Local)
				}
				seen[a.Name] = true
				na := nattr{prefix: a.Name.Space, value: a.Value, line: line}
				na.name.Local = a.Name.Local
				switch {
				case a.Name.Space == "xmlns":
					n.declared[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					n.declared[""] = a.Value
				}
				n.attrs = append(n.attrs, na)
			}
			if len(stack) > 0 {
				n.parent = stack[len(stack)-1]
				n.parent.children = append(n.parent.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
			// Resolve prefixes now that this element's declarations are known.
			uri, ok := n.lookup(n.prefix)
			if !ok {
				return nil, synerr(line, "namespace prefix %q of <%s> is not declared", n.prefix, n.qname())
			}
			n.name.Space = uri
			for i := range n.attrs {
				a := &n.attrs[i]
				switch a.prefix {
				case "", "xmlns":
					// Unprefixed attributes are in no namespace (XML Namespaces §6.2).
					if a.prefix == "xmlns" {
						a.name.Space = "xmlns"
					}
				case "xml":
					a.name.Space = xmlnsURI
				default:
					uri, ok := n.lookup(a.prefix)
					if !ok {
						return nil, synerr(a.line, "namespace prefix %q of attribute %s:%s is not declared", a.prefix, a.prefix, a.name.Local)
					}
					a.name.Space = uri
				}
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, synerr(li.line(off), "unexpected end tag </%s>", t.Name.Local)
			}
			n := stack[len(stack)-1]
			if t.Name.Space != n.prefix || t.Name.Local != n.name.Local {
				got := t.Name.Local
				if t.Name.Space != "" {
					got = t.Name.Space + ":" + got
				}
				return nil, synerr(li.line(off), "element <%s> opened at line %d is closed by </%s>", n.qname(), n.line, got)
			}
			n.end = int(d.InputOffset())
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, synerr(li.line(off), "text outside the <domain> element")
				}
				continue
			}
			stack[len(stack)-1].text = append(stack[len(stack)-1].text, t...)
		case xml.Directive:
			return nil, synerr(li.line(off), "<!%s> is not allowed in domain XML", firstWord(string(t)))
		case xml.Comment, xml.ProcInst:
			// Comments and the <?xml ...?> declaration carry nothing.
		}
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

// lookup resolves prefix through the declarations in scope.
func (n *node) lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return xmlnsURI, true
	}
	for m := n; m != nil; m = m.parent {
		if uri, ok := m.declared[prefix]; ok {
			return uri, true
		}
	}
	if prefix == "" {
		return "", true
	}
	return "", false
}

// attrLine finds the line of attribute name inside the raw start tag, which
// may span several lines, searching from byte from of the tag; it returns
// the line and where the next search may start.
func attrLine(li lineIndex, off int, raw []byte, from int, name xml.Name) (int, int) {
	q := name.Local
	if name.Space != "" {
		q = name.Space + ":" + q
	}
	for i := from; i+len(q) < len(raw); i++ {
		j := bytes.Index(raw[i:], []byte(q))
		if j < 0 {
			break
		}
		i += j
		k := i + len(q)
		for k < len(raw) && isSpace(raw[k]) {
			k++
		}
		if i > 0 && isSpace(raw[i-1]) && k < len(raw) && raw[k] == '=' {
			return li.line(off + i), k
		}
	}
	return li.line(off), from
}
