package domain

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"

	"libvirt.org/go/libvirtxml"

	"vmlite/internal/lazyre"
)

// Device is one device element of a device XML file (virsh attach-device
// FILE): its kind, the element's name (disk, interface, hostdev, ...), and
// the element decoded as a one-device libvirtxml.DomainDeviceList.
type Device struct {
	// Kind is the element's name: disk, interface, hostdev, filesystem, ...
	Kind string
	// List holds the device, in the field of its kind.
	List *libvirtxml.DomainDeviceList
	File string
}

// deviceSkeleton wraps a device file in the smallest valid domain, all on
// the device's first line, so that the strict pass (class table and
// semantic checks) reads the device exactly as it reads a device inside a
// definition, and its line numbers are the file's own.
const (
	deviceHead = `<domain type='lxc'><name>device</name><os><type>exe</type><init>/sbin/init</init></os><devices>`
	deviceTail = `</devices></domain>`
)

// xmlDecl matches a leading XML declaration, which cannot stay inside the
// skeleton.
var xmlDecl = lazyre.New(`^\s*<\?xml[^?]*\?>`)

// ParseDevice reads a device XML file, as virsh attach-device and
// detach-device take it: exactly one device element (<disk>, <interface>,
// <hostdev>, <filesystem>, ...), checked as strictly as in a definition.
// Errors are *Errors naming file:line and /domain/devices/KIND/... paths.
func ParseDevice(file string, data []byte) (*Device, []Warning, error) {
	data, cerr := toUTF8(file, data)
	if cerr != nil {
		return nil, nil, &Errors{cerr}
	}
	if loc := xmlDecl.Re().FindIndex(data); loc != nil {
		// Blanked, not cut: the lines after it keep their numbers.
		data = append(bytes.Repeat([]byte(" "), loc[1]), data[loc[1]:]...)
	}
	kind, err := deviceKind(file, data)
	if err != nil {
		return nil, nil, err
	}
	doc := make([]byte, 0, len(deviceHead)+len(data)+len(deviceTail))
	doc = append(append(append(doc, deviceHead...), data...), deviceTail...)
	d, warns, err := Parse(file, doc)
	if err != nil {
		return nil, warns, err
	}
	list := d.XML.Devices
	if list == nil || deviceCount(list) != 1 {
		return nil, warns, &Errors{{File: file, Path: "/domain/devices/" + kind, Msg: fmt.Sprintf("<%s> is not a device vmlite can attach or detach", kind)}}
	}
	return &Device{Kind: kind, List: list, File: file}, warns, nil
}

// deviceKind returns the name of the file's one top-level element.
func deviceKind(file string, data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth, kind, line := 0, "", 1
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return "", &Errors{{File: file, Line: se.Line, Msg: "XML syntax error: " + se.Msg}}
			}
			return "", &Errors{{File: file, Msg: fmt.Sprintf("XML syntax error: %v", err)}}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if kind != "" {
					line = 1 + bytes.Count(data[:off], []byte("\n"))
					return "", &Errors{{File: file, Line: line, Path: "/" + t.Name.Local, Msg: fmt.Sprintf("a device file holds one device element; <%s> follows <%s>", t.Name.Local, kind), Hint: "attach one device per file"}}
				}
				if t.Name.Space != "" {
					return "", &Errors{{File: file, Line: 1 + bytes.Count(data[:off], []byte("\n")), Path: "/" + t.Name.Local, Msg: "a device element has no namespace prefix"}}
				}
				kind = t.Name.Local
				if kind == "domain" || kind == "devices" {
					return "", &Errors{{File: file, Line: 1 + bytes.Count(data[:off], []byte("\n")), Path: "/" + kind,
						Msg: fmt.Sprintf("a device file holds one device element, not <%s>", kind), Hint: "keep only the <disk>, <interface>, <hostdev>, ... element"}}
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return "", &Errors{{File: file, Line: 1 + bytes.Count(data[:off], []byte("\n")), Msg: "text outside the device element"}}
			}
		}
	}
	if kind == "" {
		return "", &Errors{{File: file, Msg: "no device element: the file is empty", Hint: "write one <disk>, <interface>, <hostdev>, ... element"}}
	}
	return kind, nil
}

// deviceCount counts the devices in l.
func deviceCount(l *libvirtxml.DomainDeviceList) int {
	n := 0
	v := reflect.ValueOf(l).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Slice:
			n += f.Len()
		case reflect.Pointer:
			if !f.IsNil() {
				n++
			}
		case reflect.String:
			if f.String() != "" {
				n++
			}
		}
	}
	return n
}

// ParseDeviceKey reads a device file for detach-device as libvirt does
// (VIR_DOMAIN_DEF_PARSE_SKIP_VALIDATE): only what names the device need be
// there (a disk's <target dev>, an interface's <mac>), so
// "<disk><target dev='vdb'/></disk>" detaches /dev/vdb. It is what
// detach-device falls back to when ParseDevice refuses the file; a file that
// names no device at all is refused with ParseDevice's errors.
func ParseDeviceKey(file string, data []byte) (*Device, error) {
	data, cerr := toUTF8(file, data)
	if cerr != nil {
		return nil, &Errors{cerr}
	}
	if loc := xmlDecl.Re().FindIndex(data); loc != nil {
		data = append(bytes.Repeat([]byte(" "), loc[1]), data[loc[1]:]...)
	}
	kind, err := deviceKind(file, data)
	if err != nil {
		return nil, err
	}
	var list libvirtxml.DomainDeviceList
	doc := append(append([]byte("<devices>"), data...), "</devices>"...)
	if err := xml.Unmarshal(doc, &list); err != nil || deviceCount(&list) != 1 {
		return nil, &Errors{{File: file, Path: "/domain/devices/" + kind, Msg: fmt.Sprintf("<%s> names no device vmlite can detach", kind)}}
	}
	d := &Device{Kind: kind, List: &list, File: file}
	if !d.named() {
		return nil, &Errors{{File: file, Path: "/domain/devices/" + kind, Msg: "the device XML does not name a device", Hint: "give its " + d.key()}}
	}
	return d, nil
}

// named reports whether d has the key its kind is named by.
func (d *Device) named() bool {
	switch d.Kind {
	case "disk":
		t := d.List.Disks[0].Target
		return t != nil && t.Dev != ""
	case "filesystem":
		t := d.List.Filesystems[0].Target
		return t != nil && t.Dir != ""
	case "interface":
		i := d.List.Interfaces[0]
		return (i.MAC != nil && i.MAC.Address != "") || interfaceSource(i) != "" || (i.Target != nil && i.Target.Dev != "") || (i.Guest != nil && i.Guest.Dev != "")
	case "hostdev":
		h := d.List.Hostdevs[0]
		return hostdevKey(h) != "" || (h.SubsysUSB != nil && h.SubsysUSB.Source != nil && (h.SubsysUSB.Source.Vendor != nil || h.SubsysUSB.Source.Address != nil))
	}
	return false
}
