// Package lxcconf converts an LXC container configuration (the key = value
// file of lxc-create) into libvirt LXC domain XML, as `virsh
// domxml-from-native lxc-tools` does (libvirt src/lxc/lxc_native.c, whose
// tests are the specification). Both LXC 1.x/2.x keys (lxc.network.*,
// lxc.utsname, lxc.rootfs, lxc.id_map) and LXC 3 keys (lxc.net.N.*,
// lxc.uts.name, lxc.rootfs.path, lxc.idmap) are read.
//
// Keys that have no domain XML equivalent are reported as warnings, never
// dropped silently.
package lxcconf

import (
	"bufio"
	"bytes"
	"strings"
)

// entry is one key = value line.
type entry struct {
	key, value string
	line       int
}

// parse reads the key = value lines of an LXC config. Comments (#) and
// blank lines are skipped; values are trimmed.
func parse(file string, data []byte) ([]entry, error) {
	var out []entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, &Error{File: file, Line: line, Key: firstField(s), Msg: "not a key = value line"}
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !strings.HasPrefix(k, "lxc.") {
			return nil, &Error{File: file, Line: line, Key: k, Msg: "not an LXC key (they start with lxc.)"}
		}
		out = append(out, entry{key: k, value: v, line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{File: file, Line: line + 1, Key: "config", Msg: err.Error()}
	}
	return out, nil
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}
