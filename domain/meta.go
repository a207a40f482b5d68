package domain

import (
	"encoding/xml"
	"strconv"
	"strings"
	"time"
)

// Meta are vmlite-only settings, kept in a namespaced <metadata> child so that
// the file stays valid libvirt XML:
//
//	<metadata>
//	  <vmlite:config xmlns:vmlite="urn:vmlite:domain:1">
//	    <vmlite:hostname>web1</vmlite:hostname>
//	    <vmlite:pids max="512"/>
//	    <vmlite:stop signal="SIGRTMIN+4" timeout="30s"/>
//	    <vmlite:idmap allowOverlap="yes" shift="chown"/>
//	    <vmlite:procfs state="off"/>
//	  </vmlite:config>
//	</metadata>
//
// Zero values mean "not set": launch.Build picks the default.
type Meta struct {
	Hostname          string        // explicit hostname instead of the sanitised name
	PidsMax           int64         // pids limit; 0 = vmlite's default
	StopSignal        string        // override of the detected init's poweroff signal
	StopTimeout       time.Duration // default graceful stop timeout
	AllowIDMapOverlap bool          // allow idmap ranges that overlap another guest's
	IDMapChown        bool          // shift="chown": chown the trees instead of idmapped mounts
	NoProcFS          bool          // <procfs state="off">: the guest sees the host's /proc files
}

// IsZero reports whether no vmlite setting is present.
func (m Meta) IsZero() bool { return m == Meta{} }

// metaFrom reads an already validated <vmlite:config>.
func metaFrom(cfg *node) Meta {
	var m Meta
	for _, ch := range cfg.children {
		if ch.name.Space != VmliteNS {
			continue
		}
		switch ch.name.Local {
		case "hostname":
			m.Hostname = ch.trimmedText()
		case "pids":
			v, _ := ch.attr("max")
			m.PidsMax, _ = strconv.ParseInt(v, 10, 64)
		case "stop":
			m.StopSignal, _ = ch.attr("signal")
			if t, ok := ch.attr("timeout"); ok {
				m.StopTimeout, _ = time.ParseDuration(t)
			}
		case "procfs":
			v, _ := ch.attr("state")
			m.NoProcFS = v == "off"
		case "idmap":
			v, _ := ch.attr("allowOverlap")
			m.AllowIDMapOverlap = v == "yes"
			s, _ := ch.attr("shift")
			m.IDMapChown = s == "chown"
		}
	}
	return m
}

// render writes m as a <vmlite:config> element ("" when m is zero).
func (m Meta) render() string {
	if m.IsZero() {
		return ""
	}
	var b strings.Builder
	esc := func(s string) string {
		var e strings.Builder
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	const in = "\n      "
	b.WriteString(`<vmlite:config xmlns:vmlite="` + VmliteNS + `">`)
	if m.Hostname != "" {
		b.WriteString(in + "<vmlite:hostname>" + esc(m.Hostname) + "</vmlite:hostname>")
	}
	if m.PidsMax != 0 {
		b.WriteString(in + `<vmlite:pids max="` + strconv.FormatInt(m.PidsMax, 10) + `"/>`)
	}
	if m.StopSignal != "" || m.StopTimeout != 0 {
		b.WriteString(in + "<vmlite:stop")
		if m.StopSignal != "" {
			b.WriteString(` signal="` + esc(m.StopSignal) + `"`)
		}
		if m.StopTimeout != 0 {
			b.WriteString(` timeout="` + m.StopTimeout.String() + `"`)
		}
		b.WriteString("/>")
	}
	if m.AllowIDMapOverlap || m.IDMapChown {
		b.WriteString(in + "<vmlite:idmap")
		if m.AllowIDMapOverlap {
			b.WriteString(` allowOverlap="yes"`)
		}
		if m.IDMapChown {
			b.WriteString(` shift="chown"`)
		}
		b.WriteString("/>")
	}
	if m.NoProcFS {
		b.WriteString(in + `<vmlite:procfs state="off"/>`)
	}
	b.WriteString("\n    </vmlite:config>")
	return b.String()
}

// rawElement returns the source text of n, with the declaration of its own
// namespace prefix added when an ancestor made it: libvirt stores each
// metadata element on its own, so it must carry its namespace.
func rawElement(data []byte, n *node) string {
	raw := string(data[n.start:n.end])
	if _, own := n.declared[n.prefix]; own {
		return raw
	}
	decl := " xmlns"
	if n.prefix != "" {
		decl += ":" + n.prefix
	}
	var e strings.Builder
	_ = xml.EscapeText(&e, []byte(n.name.Space))
	decl += `="` + strings.ReplaceAll(e.String(), `"`, "&quot;") + `"`
	at := 1 + len(n.qname()) // after "<prefix:name"
	return raw[:at] + decl + raw[at:]
}
