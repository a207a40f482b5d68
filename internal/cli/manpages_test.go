package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestEveryCommandHasAManPage keeps docs/man and --help in step: every
// command has docs/man/vmlite-NAME.1.md holding its summary, its long help
// and each of its flags with its usage text.
func TestEveryCommandHasAManPage(t *testing.T) {
	var out bytes.Buffer
	root := NewRoot(&App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out})
	if _, err := os.Stat("../../docs/man/vmlite.1.md"); err != nil {
		t.Errorf("vmlite.1.md: %v", err)
	}
	for _, cmd := range root.Commands() {
		name := cmd.Name()
		if name == "help" || name == "completion" || cmd.Hidden {
			continue
		}
		t.Run(name, func(t *testing.T) { checkManPage(t, cmd) })
	}
}

func checkManPage(t *testing.T, cmd *cobra.Command) {
	name := cmd.Name()
	b, err := os.ReadFile(filepath.Join("../../docs/man", "vmlite-"+name+".1.md"))
	if err != nil {
		t.Fatalf("no man page: %v", err)
	}
	page := strings.Join(strings.Fields(string(b)), " ")
	if long := strings.Join(strings.Fields(cmd.Long), " "); long != "" && !strings.Contains(page, long) {
		t.Errorf("vmlite-%s.1.md does not contain the --help text:\n%s", name, cmd.Long)
	}
	if !strings.Contains(page, strings.Join(strings.Fields(cmd.Short), " ")) {
		t.Errorf("vmlite-%s.1.md lacks the summary %q", name, cmd.Short)
	}
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		if !strings.Contains(page, "**--"+f.Name+"**") {
			t.Errorf("vmlite-%s.1.md does not document --%s", name, f.Name)
		}
		usage := strings.Join(strings.Fields(strings.ReplaceAll(f.Usage, "`", "")), " ")
		if !strings.Contains(strings.ReplaceAll(page, "`", ""), usage) {
			t.Errorf("vmlite-%s.1.md lacks the usage of --%s: %q", name, f.Name, usage)
		}
	})
}
