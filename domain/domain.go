// Package domain reads libvirt LXC domain XML (<domain type='lxc'>) strictly.
//
// Parse builds a tree of the document that keeps line numbers, walks it
// against vmlite's class table (schema.go) so that every element and
// attribute is applied, accepted with a warning, rejected ("not supported by
// vmlite: ...") or unknown (an error), runs the checks that span elements
// (semantic.go), and only then decodes the document into libvirtxml's wire
// structs, which the rest of vmlite reads. All problems of a file come back
// at once as *Errors, each with its line and an XPath-like path.
//
// The package is pure: it never looks at the host. Defaults the runtime
// needs are resolved by launch.Build, not here.
package domain

import (
	"encoding/xml"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"libvirt.org/go/libvirtxml"

	"vmlite/internal/lazyre"
)

// Domain is a parsed, validated domain definition.
type Domain struct {
	// XML holds libvirt's wire structs; vmlite reads them after validation.
	XML *libvirtxml.Domain
	// Meta holds vmlite's own settings from <metadata><vmlite:config>.
	// Marshal writes Meta back, replacing whatever vmlite:config the
	// metadata held.
	Meta Meta
	// File is where the definition came from ("" for stdin/inline).
	File string
}

// Name is the domain's name.
func (d *Domain) Name() string { return d.XML.Name }

// ParseFile reads and validates path.
func ParseFile(path string) (*Domain, []Warning, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read domain XML: %w", err)
	}
	return Parse(path, b)
}

// Parse reads and validates a domain; file names the source in messages.
// User errors come back as *Errors (every problem at once, each with its
// line); warnings list what vmlite accepts without acting on it.
func Parse(file string, data []byte) (*Domain, []Warning, error) {
	data, cerr := toUTF8(file, data)
	if cerr != nil {
		return nil, nil, &Errors{cerr}
	}
	root, ferr := readTree(file, data)
	if ferr != nil {
		return nil, nil, &Errors{ferr}
	}
	assignPaths(root)
	c := newChecker(file)
	if root.name.Space != "" || root.name.Local != "domain" {
		c.errorf(root.line, root.path, "", "libvirt domain XML starts with <domain type='lxc'>", "the top-level element must be <domain>, not <%s>", root.qname())
		return nil, nil, &c.errs
	}
	c.walk(root, schema())
	c.semantic(root)
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Line < c.errs[j].Line })
		return nil, c.warns, &c.errs
	}
	var x libvirtxml.Domain
	if err := x.Unmarshal(string(withoutNodes(data, c.dropped))); err != nil {
		// The strict pass accepts only what libvirtxml can decode, so this
		// means the two disagree: report it rather than guess.
		return nil, c.warns, &Errors{{File: file, Msg: fmt.Sprintf("cannot decode the domain: %v", err)}}
	}
	d := &Domain{XML: &x, File: file}
	fixCapabilities(&x, root)
	normalize(&x)
	var foreign []string
	for _, n := range c.foreign {
		foreign = append(foreign, rawElement(data, n))
	}
	if md := root.child("metadata"); md != nil {
		for _, ch := range md.children {
			if ch.name.Space == VmliteNS && ch.name.Local == "config" {
				d.Meta = metaFrom(ch)
			}
		}
	}
	setMetadata(&x, foreign, d.Meta)
	return d, c.warns, nil
}

// withoutNodes returns data without the elements ns (unknown elements that
// were warned about: libvirt drops them, so the definition does too).
func withoutNodes(data []byte, ns []*node) []byte {
	if len(ns) == 0 {
		return data
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].start < ns[j].start })
	out := make([]byte, 0, len(data))
	at := 0
	for _, n := range ns {
		if n.start < at {
			continue // inside an element already dropped
		}
		out = append(out, data[at:n.start]...)
		at = n.end
	}
	return append(out, data[at:]...)
}

// normalize rewrites what libvirt normalises when it reads a definition:
// the UUID in its dashed lower-case form, MAC addresses with two digits per
// octet, capabilities without a state (which libvirt reads as on).
func normalize(x *libvirtxml.Domain) {
	// One spelling of the UUID from here on, the one define stores, the
	// plan, state and LIBVIRT_LXC_UUID carry (the strict pass checked it).
	if u, err := ParseUUID(x.UUID); err == nil {
		x.UUID = u
	}
	if x.Devices != nil {
		for i := range x.Devices.Interfaces {
			if m := x.Devices.Interfaces[i].MAC; m != nil {
				m.Address = NormalizeMAC(m.Address)
			}
		}
	}
	if x.Features != nil && x.Features.Capabilities != nil {
		v := reflect.ValueOf(x.Features.Capabilities).Elem()
		for i := 0; i < v.NumField(); i++ {
			if c, ok := v.Field(i).Interface().(*libvirtxml.DomainFeatureCapability); ok && c != nil && c.State == "" {
				c.State = "on"
			}
		}
	}
}

// setMetadata stores the kept foreign metadata plus vmlite's own.
func setMetadata(x *libvirtxml.Domain, foreign []string, m Meta) {
	parts := foreign
	if r := m.render(); r != "" {
		parts = append(parts[:len(parts):len(parts)], r)
	}
	if len(parts) == 0 {
		x.Metadata = nil
		return
	}
	// Indented as libvirtxml indents the rest of the document.
	x.Metadata = &libvirtxml.DomainMetadata{XML: "\n    " + strings.Join(parts, "\n    ") + "\n  "}
}

// fixCapabilities works around libvirtxml v1.12002.0 spelling
// <dac_read_search> as "dac_read_Search": it would drop the capability on
// input and write an element libvirt's schema refuses.
func fixCapabilities(x *libvirtxml.Domain, root *node) {
	f := root.child("features")
	if f == nil || f.child("capabilities") == nil || x.Features == nil || x.Features.Capabilities == nil {
		return
	}
	if n := f.child("capabilities").child("dac_read_search"); n != nil {
		st, _ := n.attr("state")
		x.Features.Capabilities.DACReadSearch = &libvirtxml.DomainFeatureCapability{State: st}
	}
}

// Marshal writes the domain back as XML, with Meta as <vmlite:config>.
func (d *Domain) Marshal() ([]byte, error) {
	x := *d.XML
	var foreign []string
	if x.Metadata != nil && strings.TrimSpace(x.Metadata.XML) != "" {
		var err error
		if foreign, err = foreignMetadata(x.Metadata.XML); err != nil {
			return nil, fmt.Errorf("marshal domain %s: metadata: %w", x.Name, err)
		}
	}
	setMetadata(&x, foreign, d.Meta)
	s, err := x.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal domain %s: %w", x.Name, err)
	}
	if s, err = addEthernetSource(s, &x); err != nil {
		return nil, fmt.Errorf("marshal domain %s: %w", x.Name, err)
	}
	s = strings.NewReplacer("<dac_read_Search ", "<dac_read_search ", "</dac_read_Search>", "</dac_read_search>").Replace(s)
	s = lxcPrefix(s)
	if strings.Contains(s, `type="usb"`) { // the regexp only where it can match: every start marshals
		s = usbSourceRE.Re().ReplaceAllStringFunc(s, usbSourceOrder)
	}
	return []byte(s + "\n"), nil
}

// libvirtxml writes a USB source's children as address, product, vendor;
// libvirt's schema wants vendor, product, then address.
var (
	usbSourceRE = lazyre.New(`(?s)<hostdev mode="subsystem" type="usb"[^>]*>\s*<source[^>]*>.*?</source>`)
	usbChildRE  = lazyre.New(`<(address|product|vendor)\b[^>]*>(?:</(?:address|product|vendor)>)?`)
)

func usbSourceOrder(block string) string {
	ms := usbChildRE.Re().FindAllStringSubmatchIndex(block, -1)
	if len(ms) < 2 {
		return block
	}
	byName := map[string]string{}
	for _, m := range ms {
		byName[block[m[2]:m[3]]] = block[m[0]:m[1]]
	}
	var order []string
	for _, n := range []string{"vendor", "product", "address"} {
		if e, ok := byName[n]; ok {
			order = append(order, e)
		}
	}
	// The children keep their places (and indentation); only which element
	// sits in each place changes.
	var b strings.Builder
	at := 0
	for i, m := range ms {
		b.WriteString(block[at:m[0]])
		b.WriteString(order[i])
		at = m[1]
	}
	b.WriteString(block[at:])
	return b.String()
}

// foreignMetadata returns the metadata elements that are not vmlite's.
func foreignMetadata(inner string) ([]string, error) {
	doc := []byte("<metadata>" + inner + "</metadata>")
	root, ferr := readTree("metadata", doc)
	if ferr != nil {
		return nil, ferr
	}
	var out []string
	for _, ch := range root.children {
		if ch.name.Space != VmliteNS {
			out = append(out, rawElement(doc, ch))
		}
	}
	return out, nil
}

// addEthernetSource works around libvirtxml v1.12002.0 writing the
// <source> of a type='ethernet' interface (its host-side addresses) only
// when it has both addresses and routes; vmlite has no host-side routes, so
// the addresses would be lost. It inserts the missing <source> right after
// the <interface> start tag (libvirt's schema interleaves the children).
func addEthernetSource(s string, x *libvirtxml.Domain) (string, error) {
	if x.Devices == nil {
		return s, nil
	}
	type patch struct {
		at   int
		text string
	}
	var patches []patch
	var root *node
	for i, ifc := range x.Devices.Interfaces {
		if ifc.Source == nil || ifc.Source.Ethernet == nil || len(ifc.Source.Ethernet.IP) == 0 || len(ifc.Source.Ethernet.Route) > 0 {
			continue
		}
		if root == nil {
			var ferr *FieldError
			if root, ferr = readTree("marshalled", []byte(s)); ferr != nil {
				return "", ferr
			}
		}
		nodes := root.child("devices").all("interface")
		if i >= len(nodes) {
			return "", fmt.Errorf("interface %d missing from marshalled XML", i)
		}
		var b strings.Builder
		b.WriteString("<source>")
		for _, ip := range ifc.Source.Ethernet.IP {
			out, err := xml.Marshal(struct {
				XMLName xml.Name `xml:"ip"`
				libvirtxml.DomainInterfaceIP
			}{DomainInterfaceIP: ip})
			if err != nil {
				return "", fmt.Errorf("host address: %w", err)
			}
			b.Write(out)
		}
		b.WriteString("</source>")
		patches = append(patches, patch{nodes[i].tagEnd, b.String()})
	}
	for i := len(patches) - 1; i >= 0; i-- {
		p := patches[i]
		s = s[:p.at] + p.text + s[p.at:]
	}
	return s, nil
}

// lxcPrefix writes <lxc:namespace> as libvirt does, with the lxc prefix
// declared on <domain>: libvirtxml writes a default namespace on
// <namespace> instead, which means the same but reads differently.
func lxcPrefix(s string) string {
	open := `<namespace xmlns="` + lxcNS + `">`
	i := strings.Index(s, open)
	if i < 0 {
		return s
	}
	j := strings.Index(s[i:], "</namespace>")
	if j < 0 {
		return s
	}
	block := s[i : i+j+len("</namespace>")]
	r := []string{open, "<lxc:namespace>", "</namespace>", "</lxc:namespace>"}
	for _, n := range []string{"sharenet", "shareipc", "shareuts"} {
		r = append(r, "<"+n+" ", "<lxc:"+n+" ", "</"+n+">", "</lxc:"+n+">")
	}
	s = s[:i] + strings.NewReplacer(r...).Replace(block) + s[i+len(block):]
	return strings.Replace(s, "<domain ", `<domain xmlns:lxc="`+lxcNS+`" `, 1)
}
