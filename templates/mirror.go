package templates

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"vmlite/internal/errdefs"
)

// AptSource is one entry of APT's sources: a line of sources.list or a
// stanza of a deb822 .sources file (sources.list(5)).
type AptSource struct {
	Types      []string // "deb", "deb-src"
	URIs       []string
	Suites     []string
	Components []string
}

// ParseSourcesList reads the one-line format of /etc/apt/sources.list:
// "deb [opt=val ...] URI SUITE [COMPONENT...]". Comments start with "#".
func ParseSourcesList(r io.Reader) ([]AptSource, error) {
	var out []AptSource
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		typ := f[0]
		f = f[1:]
		// Options: "[a=b c=d]", possibly with spaces inside the brackets.
		if len(f) > 0 && strings.HasPrefix(f[0], "[") {
			end := -1
			for i, w := range f {
				if strings.HasSuffix(w, "]") {
					end = i
					break
				}
			}
			if end < 0 {
				return nil, fmt.Errorf("sources.list line %d: unterminated [options]", n)
			}
			f = f[end+1:]
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("sources.list line %d: want TYPE URI SUITE [COMPONENT...]", n)
		}
		out = append(out, AptSource{Types: []string{typ}, URIs: f[:1], Suites: f[1:2], Components: f[2:]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read sources.list: %w", err)
	}
	return out, nil
}

// ParseDeb822Sources reads a deb822 .sources file: stanzas of "Field: value"
// lines separated by blank lines; a line starting with a space or tab
// continues the field before it. Stanzas with "Enabled: no" are left out.
func ParseDeb822Sources(r io.Reader) ([]AptSource, error) {
	var out []AptSource
	fields := map[string]string{}
	last := ""
	flush := func(n int) error {
		defer func() { fields, last = map[string]string{}, "" }()
		if len(fields) == 0 {
			return nil
		}
		if strings.EqualFold(strings.TrimSpace(fields["enabled"]), "no") {
			return nil
		}
		s := AptSource{
			Types:      strings.Fields(fields["types"]),
			URIs:       strings.Fields(fields["uris"]),
			Suites:     strings.Fields(fields["suites"]),
			Components: strings.Fields(fields["components"]),
		}
		if len(s.Types) == 0 || len(s.URIs) == 0 || len(s.Suites) == 0 {
			return fmt.Errorf("deb822 stanza ending at line %d: want Types, URIs and Suites", n)
		}
		out = append(out, s)
		return nil
	}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
			continue
		case strings.TrimSpace(line) == "":
			if err := flush(n); err != nil {
				return nil, err
			}
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return nil, fmt.Errorf("deb822 line %d: continuation line without a field", n)
			}
			fields[last] += " " + strings.TrimSpace(line)
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("deb822 line %d: want Field: value", n)
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read deb822 sources: %w", err)
	}
	if err := flush(n); err != nil {
		return nil, err
	}
	return out, nil
}

// HostSources reads every APT source configured under root (normally "/"):
// etc/apt/sources.list, then etc/apt/sources.list.d/*.list and *.sources
// in name order, as APT does. Other file names (such as *.disabled) are
// ignored, as APT ignores them.
func HostSources(root string) ([]AptSource, error) {
	aptDir := filepath.Join(root, "etc/apt")
	files := []string{filepath.Join(aptDir, "sources.list")}
	ents, err := os.ReadDir(filepath.Join(aptDir, "sources.list.d"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read APT sources: %w", err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".list") || strings.HasSuffix(e.Name(), ".sources") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, filepath.Join(aptDir, "sources.list.d", n))
	}
	var all []AptSource
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read APT sources: %w", err)
		}
		parse := ParseSourcesList
		if strings.HasSuffix(f, ".sources") {
			parse = ParseDeb822Sources
		}
		srcs, err := parse(strings.NewReader(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		all = append(all, srcs...)
	}
	return all, nil
}

// PickMirror chooses the Debian mirror for suite among srcs: the first
// binary ("deb") source over http, https or file that lists suite itself;
// failing that, one that lists the host's own release (hostSuite, from
// /etc/os-release), since a Debian mirror carries every suite.
func PickMirror(srcs []AptSource, suite, hostSuite string) (string, error) {
	for _, want := range []string{suite, hostSuite} {
		if want == "" {
			continue
		}
		for _, s := range srcs {
			if !slices.Contains(s.Types, "deb") || !slices.Contains(s.Suites, want) {
				continue
			}
			for _, u := range s.URIs {
				if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "file:/") {
					return strings.TrimRight(u, "/"), nil
				}
			}
		}
	}
	return "", fmt.Errorf("no Debian mirror for %q in the host's APT sources (/etc/apt/sources.list, /etc/apt/sources.list.d): pass --mirror URL: %w",
		suite, errdefs.ErrNotFound)
}

// HostMirror is PickMirror over the APT sources configured under root.
func HostMirror(root, suite string) (string, error) {
	srcs, err := HostSources(root)
	if err != nil {
		return "", err
	}
	return PickMirror(srcs, suite, hostCodename(root))
}

// hostCodename is VERSION_CODENAME from root's /etc/os-release ("" if none).
func hostCodename(root string) string {
	b, err := os.ReadFile(filepath.Join(root, "etc/os-release"))
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VERSION_CODENAME="); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}
