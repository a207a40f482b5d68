package templates

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
)

func TestParseSourcesList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []AptSource
		wantErr bool
	}{
		{
			name: "plain and options",
			in: "# comment\ndeb http://ftp.example.org/debian bookworm main contrib\n" +
				"deb-src http://ftp.example.org/debian bookworm main\n" +
				"deb [arch=amd64 signed-by=/k.gpg] https://m.example/debian/ trixie main # trailing\n" +
				"deb [ trusted=yes ] file:/srv/mirror sid main\n",
			want: []AptSource{
				{Types: []string{"deb"}, URIs: []string{"http://ftp.example.org/debian"}, Suites: []string{"bookworm"}, Components: []string{"main", "contrib"}},
				{Types: []string{"deb-src"}, URIs: []string{"http://ftp.example.org/debian"}, Suites: []string{"bookworm"}, Components: []string{"main"}},
				{Types: []string{"deb"}, URIs: []string{"https://m.example/debian/"}, Suites: []string{"trixie"}, Components: []string{"main"}},
				{Types: []string{"deb"}, URIs: []string{"file:/srv/mirror"}, Suites: []string{"sid"}, Components: []string{"main"}},
			},
		},
		{name: "empty", in: "\n# nothing\n"},
		{name: "no suite", in: "deb http://x/debian\n", wantErr: true},
		{name: "open bracket", in: "deb [arch=amd64 http://x/debian bookworm main\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSourcesList(strings.NewReader(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseDeb822Sources(t *testing.T) {
	in := `Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

types: deb deb-src
uris: http://mirror.example/debian-security
suites: bookworm-security
components: main
 contrib

Types: deb
URIs: http://off.example/debian
Suites: bookworm
Enabled: no
`
	got, err := ParseDeb822Sources(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []AptSource{
		{Types: []string{"deb"}, URIs: []string{"http://mirror.example/debian"}, Suites: []string{"bookworm", "bookworm-updates"}, Components: []string{"main"}},
		{Types: []string{"deb", "deb-src"}, URIs: []string{"http://mirror.example/debian-security"}, Suites: []string{"bookworm-security"}, Components: []string{"main", "contrib"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{" continuation first\n", "Types deb\n", "Types: deb\nSuites: x\n"} {
		if _, err := ParseDeb822Sources(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseSources(f *testing.F) {
	f.Add("deb [a=b] http://x/debian bookworm main\n")
	f.Add("Types: deb\nURIs: http://x\nSuites: s\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		for _, parse := range []func(r *strings.Reader) ([]AptSource, error){
			func(r *strings.Reader) ([]AptSource, error) { return ParseSourcesList(r) },
			func(r *strings.Reader) ([]AptSource, error) { return ParseDeb822Sources(r) },
		} {
			srcs, err := parse(strings.NewReader(in))
			if err != nil {
				continue
			}
			for _, s := range srcs {
				if len(s.Types) == 0 || len(s.URIs) == 0 || len(s.Suites) == 0 {
					t.Fatalf("accepted an incomplete source %+v", s)
				}
			}
		}
	})
}

func TestPickMirror(t *testing.T) {
	srcs := []AptSource{
		{Types: []string{"deb"}, URIs: []string{"https://deb.nodesource.example/node_20.x"}, Suites: []string{"nodistro"}},
		{Types: []string{"deb-src"}, URIs: []string{"http://src.example/debian"}, Suites: []string{"bookworm"}},
		{Types: []string{"deb"}, URIs: []string{"http://sec.example/debian-security"}, Suites: []string{"bookworm-security"}},
		{Types: []string{"deb"}, URIs: []string{"cdrom:[Debian]/"}, Suites: []string{"bookworm"}},
		{Types: []string{"deb"}, URIs: []string{"http://main.example/debian/"}, Suites: []string{"bookworm", "bookworm-updates"}},
		{Types: []string{"deb"}, URIs: []string{"http://testing.example/debian"}, Suites: []string{"trixie"}},
	}
	tests := []struct {
		suite, host, want string
	}{
		{"bookworm", "bookworm", "http://main.example/debian"},
		{"trixie", "bookworm", "http://testing.example/debian"},
		{"sid", "bookworm", "http://main.example/debian"}, // the host release's mirror carries every suite
		{"sid", "", ""},
	}
	for _, tc := range tests {
		got, err := PickMirror(srcs, tc.suite, tc.host)
		if tc.want == "" {
			if !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("PickMirror(%s, %s) = %q, %v; want ErrNotFound", tc.suite, tc.host, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("PickMirror(%s, %s) = %q, %v; want %q", tc.suite, tc.host, got, err, tc.want)
		}
	}
}

func TestHostMirror(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"etc/os-release":                            "PRETTY_NAME=\"Debian\"\nVERSION_CODENAME=bookworm\n",
		"etc/apt/sources.list.d/a.list.disabled":    "deb http://disabled.example/debian bookworm main\n",
		"etc/apt/sources.list.d/b-third.list":       "deb https://third.example/apt stable main\n",
		"etc/apt/sources.list.d/debian.sources":     "Types: deb\nURIs: http://deb822.example/debian\nSuites: bookworm\nComponents: main\n",
		"etc/apt/sources.list.d/z-security.sources": "Types: deb\nURIs: http://deb822.example/debian-security\nSuites: bookworm-security\n",
	}
	for p, data := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := HostMirror(root, "bookworm")
	if err != nil || got != "http://deb822.example/debian" {
		t.Errorf("HostMirror = %q, %v", got, err)
	}
	// Without the release's own entry the host's codename picks it too.
	got, err = HostMirror(root, "trixie")
	if err != nil || got != "http://deb822.example/debian" {
		t.Errorf("HostMirror(trixie) = %q, %v", got, err)
	}
	// The one-line file is read as well, before sources.list.d.
	if err := os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte("deb http://classic.example/debian bookworm main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := HostMirror(root, "bookworm"); err != nil || got != "http://classic.example/debian" {
		t.Errorf("HostMirror with sources.list = %q, %v", got, err)
	}
	if _, err := HostMirror(t.TempDir(), "bookworm"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("no sources: %v, want ErrNotFound", err)
	}
}
