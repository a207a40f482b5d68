package domain

import (
	"sort"
	"strings"

	"vmlite/internal/xpath"
)

// The strict engine (the tree with lines, the walk against a class table,
// the FILE:LINE: /xpath errors) for other libvirt documents than the
// domain: package netdef describes network XML with the builders below
// and reads it with CheckXML, so both kinds of document are checked by
// one walker and report problems the same way.

// Spec describes one element of a document: its class, attributes, text
// and children (Element builds one).
type Spec = elemSpec

// AttrSpec describes one attribute (Attribute, EnumAttribute).
type AttrSpec = attrSpec

// ValueSpec is one value of an enumerated attribute or text (Value).
type ValueSpec = valueSpec

// SpecOpt sets a property of an element's Spec.
type SpecOpt = elemOpt

// Element is the Spec of element name.
func Element(name string, class Class, doc string, opts ...SpecOpt) *Spec {
	return elem(name, class, doc, opts...)
}

// RejectedElement is an element of the document's schema that vmlite
// cannot honour: an error "not supported by vmlite: doc" with the fix hint.
func RejectedElement(name, doc, hint string) *Spec { return rejectedElem(name, doc, hint) }

// Repeated lets the element appear more than once.
func Repeated() SpecOpt { return multi() }

// Children lists the element's children.
func Children(cs ...*Spec) SpecOpt { return children(cs...) }

// Attributes lists the element's attributes.
func Attributes(as ...*AttrSpec) SpecOpt { return attrs(as...) }

// Text lets the element hold text, checked by c (nil: any text).
func Text(c func(string) error) SpecOpt {
	if c == nil {
		c = func(string) error { return nil }
	}
	return text(c)
}

// Strict makes unknown children and attributes errors, not warnings.
func Strict() SpecOpt { return strict() }

// InNamespace puts the element in XML namespace uri (a rejected element
// of another namespace, say).
func InNamespace(uri string) SpecOpt { return ns(uri) }

// Requires makes child a required child; msg is the error without it.
func Requires(child, msg string) SpecOpt { return requires(child, msg) }

// Attribute is an attribute whose value c checks (nil: any value).
func Attribute(name string, class Class, doc string, c func(string) error) *AttrSpec {
	return attr(name, class, doc, c)
}

// EnumAttribute is an attribute that takes one of vs.
func EnumAttribute(name, doc string, required bool, vs ...*ValueSpec) *AttrSpec {
	return enumAttr(name, doc, required, vs...)
}

// Value is one value of an EnumAttribute; a Rejected one carries hint.
func Value(v string, class Class, doc, hint string) *ValueSpec {
	return &valueSpec{value: v, class: class, doc: doc, hint: hint}
}

// Document is a document CheckXML read: its paths and lines, for errors
// about values that only a later step can judge.
type Document struct {
	file  string
	nodes map[string]*node
	data  []byte
}

// Line is the line of the element or attribute at path (package xpath),
// 0 when the document has none there.
func (d *Document) Line(path string) int {
	elem := xpath.Elem(path)
	n := d.nodes[elem]
	switch {
	case n == nil:
		return 0
	case elem != path:
		return n.attrLine(strings.TrimPrefix(path, elem+"/@"))
	}
	return n.line
}

// Errorf is an error about the value at path, with its line.
func (d *Document) Errorf(path, value, msg string) *FieldError {
	return &FieldError{File: d.file, Line: d.Line(path), Path: path, Value: value, Msg: msg}
}

// Data is the document as UTF-8, for decoding once it is checked.
func (d *Document) Data() []byte { return d.data }

// CheckXML reads data (file names it in messages) as a document whose root
// element root describes: its charset, well-formedness, and every element,
// attribute and value against the class table. It returns the document,
// what vmlite accepts without acting on it, and every error at once, in
// line order.
func CheckXML(file string, data []byte, root *Spec) (*Document, []Warning, Errors) {
	data, cerr := toUTF8(file, data)
	if cerr != nil {
		return nil, nil, Errors{cerr}
	}
	top, ferr := readTree(file, data)
	if ferr != nil {
		return nil, nil, Errors{ferr}
	}
	assignPaths(top)
	c := newChecker(file)
	if top.name.Space != root.ns || top.name.Local != root.name {
		c.errorf(top.line, top.path, "", "", "the top-level element must be <%s>, not <%s>", root.name, top.qname())
		return nil, nil, c.errs
	}
	c.walk(top, root)
	sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Line < c.errs[j].Line })
	d := &Document{file: file, nodes: map[string]*node{}, data: data}
	var index func(n *node)
	index = func(n *node) {
		d.nodes[n.path] = n
		for _, ch := range n.children {
			index(ch)
		}
	}
	index(top)
	return d, c.warns, c.errs
}
