package domain

import (
	"fmt"
	"strings"
)

// RefRow is one row of the XML reference: an element, attribute or value
// and its class. Paths are generic (no indices); values are written
// /domain/devices/interface/@type='user' or /domain/on_crash='preserve'.
type RefRow struct {
	Path  string
	Class Class
	Doc   string
	Hint  string
}

// Reference lists every element, attribute and enumerated value vmlite
// knows, in document order. docs/xml-reference.md embeds it (see
// ReferenceMarkdown); a test keeps the two identical.
func Reference() []RefRow {
	var rows []RefRow
	var walk func(path string, e *elemSpec)
	walk = func(path string, e *elemSpec) {
		doc := e.doc
		if e.opaque {
			doc += " (ignored whole)"
		}
		rows = append(rows, RefRow{Path: path, Class: e.class, Doc: doc, Hint: e.hint})
		if e.class == Rejected || e.opaque {
			return
		}
		for _, v := range e.values {
			rows = append(rows, RefRow{Path: fmt.Sprintf("%s='%s'", path, v.value), Class: v.class, Doc: v.doc, Hint: v.hint})
		}
		for _, a := range e.attrs {
			ap := path + "/@" + a.name
			doc := a.doc
			if a.required {
				doc = "required; " + doc
			}
			rows = append(rows, RefRow{Path: ap, Class: a.class, Doc: doc, Hint: a.hint})
			for _, v := range a.values {
				rows = append(rows, RefRow{Path: fmt.Sprintf("%s='%s'", ap, v.value), Class: v.class, Doc: v.doc, Hint: v.hint})
			}
		}
		for _, c := range e.children {
			walk(path+"/"+specQName(c), c)
		}
	}
	walk("/domain", schema())
	return rows
}

// specQName is the name with the prefix vmlite's documentation uses.
func specQName(e *elemSpec) string {
	switch e.ns {
	case VmliteNS:
		return "vmlite:" + e.name
	case lxcNS:
		return "lxc:" + e.name
	}
	return e.name
}

// ReferenceMarkdown renders Reference as a markdown table.
func ReferenceMarkdown() string {
	var b strings.Builder
	b.WriteString("| XML | class | what vmlite does |\n|---|---|---|\n")
	for _, r := range Reference() {
		doc := r.Doc
		if r.Class == Rejected {
			doc = "not supported by vmlite: " + doc
		}
		if r.Hint != "" {
			doc += "; fix: " + r.Hint
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r.Path, r.Class, strings.ReplaceAll(mdEscape(doc), "|", "\\|"))
	}
	return b.String()
}

// mdEscape keeps element names such as <init> visible in markdown.
func mdEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
}

// ReferenceKey returns the reference path of a FieldError's subject: its
// path without indices, plus ='value' for an enumerated value. Tests use it
// to check that every rejection a file gets is documented.
func ReferenceKey(e *FieldError) string {
	p := genericPath(e.Path)
	if e.Value == "" {
		return p
	}
	for _, r := range referenceIndex() {
		if r.Path == fmt.Sprintf("%s='%s'", p, e.Value) {
			return r.Path
		}
	}
	return p
}

func referenceIndex() []RefRow { return Reference() }

// genericPath removes the [n] indices from a path.
func genericPath(p string) string {
	var b strings.Builder
	skip := false
	for _, r := range p {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}
