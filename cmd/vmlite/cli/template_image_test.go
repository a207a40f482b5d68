package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"vmlite/image"
	"vmlite/templates"
)

// TestImageInit: what template image makes init of an image's config.
func TestImageInit(t *testing.T) {
	top, bottom := t.TempDir(), t.TempDir()
	for _, d := range []string{"usr/sbin", "usr/lib/systemd", "usr/local/bin", "app"} {
		if err := os.MkdirAll(filepath.Join(bottom, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("usr/sbin", filepath.Join(bottom, "sbin")))
	must(os.Symlink("../lib/systemd/systemd", filepath.Join(bottom, "usr/sbin/init")))
	must(os.WriteFile(filepath.Join(bottom, "usr/lib/systemd/systemd"), nil, 0o755))
	must(os.WriteFile(filepath.Join(top, "server"), nil, 0o755))
	must(os.MkdirAll(filepath.Join(top, "usr/local/bin"), 0o755))
	must(os.WriteFile(filepath.Join(top, "usr/local/bin/web"), nil, 0o755))
	layers := []string{top, bottom}
	for _, tc := range []struct {
		name string
		cfg  v1.Config
		flag string
		want templates.DomainConfig
		bad  bool
	}{
		{name: "init image", want: templates.DomainConfig{Init: "/sbin/init"}},
		{name: "cmd is init", cfg: v1.Config{Cmd: []string{"/sbin/init"}}, want: templates.DomainConfig{Init: "/sbin/init"}},
		{name: "application", cfg: v1.Config{Entrypoint: []string{"web"}, Cmd: []string{"--port", "80"}, Env: []string{"PATH=/usr/local/bin:/usr/bin", "A=b"},
			WorkingDir: "/app", User: "1000:50"},
			want: templates.DomainConfig{Init: "/usr/local/bin/web", InitArgs: []string{"--port", "80"}, InitEnv: []string{"PATH=/usr/local/bin:/usr/bin", "A=b"},
				InitDir: "/app", InitUser: "1000", InitGroup: "50"}},
		{name: "absolute command", cfg: v1.Config{Cmd: []string{"/server", "-v"}}, want: templates.DomainConfig{Init: "/server", InitArgs: []string{"-v"}}},
		{name: "--init", cfg: v1.Config{Cmd: []string{"/server"}}, flag: "/bin/sh", want: templates.DomainConfig{Init: "/bin/sh"}},
		{name: "not on PATH", cfg: v1.Config{Cmd: []string{"nothere"}}, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c templates.DomainConfig
			err := imageInit(&c, layers, &image.Config{Config: tc.cfg}, tc.flag)
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted: %+v", c)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Init != tc.want.Init || !slices.Equal(c.InitArgs, tc.want.InitArgs) || !slices.Equal(c.InitEnv, tc.want.InitEnv) ||
				c.InitDir != tc.want.InitDir || c.InitUser != tc.want.InitUser || c.InitGroup != tc.want.InitGroup {
				t.Errorf("got %+v, want %+v", c, tc.want)
			}
		})
	}
	if r, ok := image.Resolve(layers, "/sbin/init"); !ok || r != "/usr/lib/systemd/systemd" {
		t.Errorf("Resolve(/sbin/init) = %q, %v", r, ok)
	}
}
