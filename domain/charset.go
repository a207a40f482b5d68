package domain

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"vmlite/internal/lazyre"
)

// xmlDeclRe finds the encoding of an XML declaration at the very start of
// a document (after a UTF-8 byte order mark, if any).
var xmlDeclRe = lazyre.New(`^(?:\xef\xbb\xbf)?<\?xml[^?>]*?\sencoding\s*=\s*(?:"([^"]*)"|'([^']*)')`)

// toUTF8 returns data as UTF-8 with its declaration saying so: documents
// declared ISO-8859-1 (what libvirt's own tools may write) or US-ASCII are
// transcoded, byte for byte into runes, so that lines and the rest of the
// parse stay as they were. Other encodings are an error that says how to
// convert the file: encoding/xml has no converters of its own.
func toUTF8(file string, data []byte) ([]byte, *FieldError) {
	m := xmlDeclRe.Re().FindSubmatchIndex(data)
	if m == nil {
		return data, nil
	}
	vs, ve := m[2], m[3]
	if vs < 0 {
		vs, ve = m[4], m[5]
	}
	enc := strings.ToLower(strings.TrimSpace(string(data[vs:ve])))
	var latin1 bool
	switch enc {
	case "utf-8", "utf8":
		return data, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1":
		latin1 = true
	case "us-ascii", "ascii":
	default:
		return nil, &FieldError{File: file, Line: 1, Path: "/", Value: string(data[vs:ve]),
			Msg:  "the XML declaration's encoding is not supported",
			Hint: fmt.Sprintf("save the file as UTF-8 (iconv -f %s -t UTF-8) and declare encoding='UTF-8', or leave the encoding out", string(data[vs:ve]))}
	}
	out := make([]byte, 0, len(data)+len(data)/8)
	out = append(out, data[:vs]...)
	out = append(out, "UTF-8"...)
	line := 1 + bytes.Count(data[:ve], []byte("\n"))
	for i, b := range data[ve:] {
		switch {
		case b < utf8.RuneSelf:
			out = append(out, b)
			if b == '\n' {
				line++
			}
		case latin1:
			out = utf8.AppendRune(out, rune(b))
		default:
			return nil, &FieldError{File: file, Line: line, Path: "/", Value: fmt.Sprintf("byte 0x%02x at offset %d", b, ve+i),
				Msg: "a document declared US-ASCII holds a byte above 127", Hint: "declare its real encoding, or save it as UTF-8"}
		}
	}
	return out, nil
}
