package netdef

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"vmlite/domain"
)

// schema is the subset of libvirt's network XML that vmlite implements:
// anything else is an error rather than a setting silently ignored.
type schema struct {
	attrs    []string
	children map[string]*schema
	text     bool
	many     bool // may repeat; its paths carry an index: ip[2]
}

var networkSchema = &schema{children: map[string]*schema{
	"name":    {text: true},
	"uuid":    {text: true},
	"bridge":  {attrs: []string{"name", "stp", "delay"}},
	"forward": {attrs: []string{"mode"}},
	"mac":     {attrs: []string{"address"}},
	"mtu":     {attrs: []string{"size"}},
	"ip": {many: true, attrs: []string{"address", "netmask", "prefix", "family"}, children: map[string]*schema{
		"dhcp": {children: map[string]*schema{
			"range": {many: true, attrs: []string{"start", "end"}},
			"host":  {many: true, attrs: []string{"mac", "ip", "name"}},
		}},
	}},
}}

// checkSchema walks the document and reports every element and attribute
// outside networkSchema. It returns lines, the line of each element path,
// for later errors about values.
func checkSchema(file string, data []byte) (lines map[string]int, errs domain.Errors) {
	lines = map[string]int{}
	d := xml.NewDecoder(strings.NewReader(string(data)))
	type frame struct {
		path   string
		sc     *schema
		counts map[string]int
	}
	var stack []frame
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line = se.Line
			}
			return lines, append(errs, &domain.FieldError{File: file, Line: line, Msg: "not well-formed XML: " + err.Error()})
		}
		line, _ := d.InputPos()
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			var path string
			var sc *schema
			if len(stack) == 0 {
				path = "/" + name
				if name != "network" {
					errs = append(errs, &domain.FieldError{File: file, Line: line, Path: path, Msg: "not a network definition: the root element must be <network>"})
					return lines, errs
				}
				sc = networkSchema
			} else {
				parent := &stack[len(stack)-1]
				parent.counts[name]++
				path = parent.path + "/" + name
				if parent.sc != nil {
					sc = parent.sc.children[name]
				}
				switch {
				case sc == nil && parent.sc != nil:
					errs = append(errs, &domain.FieldError{File: file, Line: line, Path: path, Msg: "element not supported by vmlite"})
				case sc != nil && sc.many:
					path = fmt.Sprintf("%s[%d]", path, parent.counts[name])
				case sc != nil && parent.counts[name] > 1:
					errs = append(errs, &domain.FieldError{File: file, Line: line, Path: path, Msg: "element given more than once"})
				}
			}
			lines[path] = line
			if sc != nil {
				for _, a := range t.Attr {
					if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
						continue
					}
					if !contains(sc.attrs, a.Name.Local) {
						errs = append(errs, &domain.FieldError{File: file, Line: line, Path: path + "/@" + a.Name.Local, Msg: "attribute not supported by vmlite"})
					}
				}
			}
			stack = append(stack, frame{path: path, sc: sc, counts: map[string]int{}})
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				if f := stack[len(stack)-1]; f.sc != nil && !f.sc.text && strings.TrimSpace(string(t)) != "" {
					errs = append(errs, &domain.FieldError{File: file, Line: line, Path: f.path, Value: strings.TrimSpace(string(t)), Msg: "unexpected text"})
				}
			}
		}
	}
	return lines, errs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
