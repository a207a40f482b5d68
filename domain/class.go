package domain

// Class says what vmlite does with an element, attribute or value. Every
// element and attribute that vmlite knows is in exactly one class. The line
// follows libvirt's LXC driver: what it implements is Applied, what it
// accepts and ignores is Warned, and only what it refuses (or what would be
// unsafe or wrong to ignore) is Rejected. Unknown elements and attributes,
// which libvirt drops, are warned about too, unless they look like a typo of
// a known name or sit where libvirt itself is strict (see elemSpec.strict):
// nothing is ignored silently.
type Class int

// The classes, as docs/xml-reference.md lists them.
const (
	// Applied: vmlite does it when the guest starts (or stores it, for
	// name, title, description and metadata).
	Applied Class = iota + 1
	// Warned: accepted, as libvirt's LXC driver accepts it, but vmlite does
	// not act on it; validate and define print "ignored: ..." warnings.
	Warned
	// Rejected: valid libvirt XML that vmlite cannot honour: an error
	// "not supported by vmlite: ...".
	Rejected
)

// String is the class's name in messages and in the XML reference.
func (c Class) String() string {
	switch c {
	case Applied:
		return "applied"
	case Warned:
		return "accepted with warning"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// elemSpec describes one element: its class, its attributes, the values
// its text may take and its children.
type elemSpec struct {
	name  string // local name
	ns    string // namespace URI; "" for libvirt's own elements
	class Class
	doc   string // what vmlite does with it; for Rejected and Warned, the reason shown to the user
	hint  string // the fix shown with a rejection
	multi bool   // may appear more than once
	// text validates the element's text; nil means no text is allowed.
	text check
	// values, if set, lists every value the text may take, each with its class.
	values   []*valueSpec
	attrs    []*attrSpec
	children []*elemSpec
	// foreign: children in other XML namespaces are kept verbatim (metadata).
	foreign bool
	// opaque: the element is ignored whole (a Warned VM device or setting):
	// its attributes and children are not checked, as libvirt's LXC driver
	// does not look at them either.
	opaque bool
	// strict: an unknown child is an error, not a warning, because libvirt
	// refuses it too (capability names, lxc:namespace) or the namespace is
	// vmlite's own.
	strict bool
	// required lists children that must be present, with the message when missing.
	required map[string]string
}

// attrSpec describes one attribute.
type attrSpec struct {
	name     string
	class    Class
	doc      string
	hint     string
	required bool
	check    check
	values   []*valueSpec
}

// valueSpec is one value of an enumerated attribute or text.
type valueSpec struct {
	value string
	class Class
	doc   string
	hint  string
}

// Helpers that keep the table in schema.go readable.

type elemOpt func(*elemSpec)

func elem(name string, class Class, doc string, opts ...elemOpt) *elemSpec {
	e := &elemSpec{name: name, class: class, doc: doc}
	for _, o := range opts {
		o(e)
	}
	return e
}

// ignoredElem is a libvirt element that libvirt's LXC driver parses and
// does not use: accepted whole with one warning.
func ignoredElem(name, doc string) *elemSpec {
	return &elemSpec{name: name, class: Warned, doc: doc, multi: true, opaque: true}
}

// ignoredAll builds ignored elements that share a reason.
func ignoredAll(doc string, names ...string) []*elemSpec {
	out := make([]*elemSpec, len(names))
	for i, n := range names {
		out[i] = ignoredElem(n, doc)
	}
	return out
}

// rejectedElem is a libvirt element that vmlite cannot honour.
func rejectedElem(name, doc, hint string) *elemSpec {
	return &elemSpec{name: name, class: Rejected, doc: doc, hint: hint, multi: true}
}

func multi() elemOpt        { return func(e *elemSpec) { e.multi = true } }
func text(c check) elemOpt  { return func(e *elemSpec) { e.text = c } }
func ns(uri string) elemOpt { return func(e *elemSpec) { e.ns = uri } }
func foreign() elemOpt      { return func(e *elemSpec) { e.foreign = true } }
func strict() elemOpt       { return func(e *elemSpec) { e.strict = true } }
func children(cs ...*elemSpec) elemOpt {
	return func(e *elemSpec) { e.children = append(e.children, cs...) }
}
func attrs(as ...*attrSpec) elemOpt { return func(e *elemSpec) { e.attrs = append(e.attrs, as...) } }
func textValues(vs ...*valueSpec) elemOpt {
	return func(e *elemSpec) { e.values = vs; e.text = nonEmpty }
}
func requires(child, msg string) elemOpt {
	return func(e *elemSpec) {
		if e.required == nil {
			e.required = map[string]string{}
		}
		e.required[child] = msg
	}
}

func attr(name string, class Class, doc string, c check) *attrSpec {
	return &attrSpec{name: name, class: class, doc: doc, check: c}
}

func reqAttr(name, doc string, c check) *attrSpec {
	return &attrSpec{name: name, class: Applied, doc: doc, check: c, required: true}
}

func enumAttr(name, doc string, required bool, vs ...*valueSpec) *attrSpec {
	return &attrSpec{name: name, class: Applied, doc: doc, required: required, values: vs}
}

func rejectedAttr(name, doc, hint string) *attrSpec {
	return &attrSpec{name: name, class: Rejected, doc: doc, hint: hint}
}

func warnedAttr(name, doc string) *attrSpec {
	return &attrSpec{name: name, class: Warned, doc: doc}
}

func val(v string, class Class, doc string) *valueSpec {
	return &valueSpec{value: v, class: class, doc: doc}
}

func warnedVal(v, doc string) *valueSpec {
	return &valueSpec{value: v, class: Warned, doc: doc}
}

func rejectedVal(v, doc, hint string) *valueSpec {
	return &valueSpec{value: v, class: Rejected, doc: doc, hint: hint}
}
