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
// and each of its flags with its usage text; subcommands (template busybox,
// template debian) are documented, help and flags, in their parent's page.
func TestEveryCommandHasAManPage(t *testing.T) {
	var out bytes.Buffer
	root := NewRoot(&App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out})
	if _, err := os.Stat("../../../docs/man/vmlite.1.md"); err != nil {
		t.Errorf("vmlite.1.md: %v", err)
	}
	for _, cmd := range root.Commands() {
		name := cmd.Name()
		if name == "help" || name == "completion" || cmd.Hidden {
			continue
		}
		t.Run(name, func(t *testing.T) { checkManPage(t, cmd) })
		for _, alias := range cmd.Aliases {
			t.Run(alias, func(t *testing.T) { checkAliasPage(t, alias, name) })
		}
	}
}

// checkAliasPage: a virsh name that is an alias (vmlite shutdown = vmlite
// stop) has its own page, which says what it is an alias of.
func checkAliasPage(t *testing.T, alias, of string) {
	b, err := os.ReadFile(filepath.Join("../../../docs/man", "vmlite-"+alias+".1.md"))
	if err != nil {
		t.Fatalf("no man page for the alias %s of %s: %v", alias, of, err)
	}
	if !strings.Contains(string(b), "vmlite-"+of+"(1)") || !strings.Contains(string(b), "alias") {
		t.Errorf("vmlite-%s.1.md does not say it is an alias of vmlite-%s(1)", alias, of)
	}
}

func checkManPage(t *testing.T, cmd *cobra.Command) {
	name := cmd.Name()
	b, err := os.ReadFile(filepath.Join("../../../docs/man", "vmlite-"+name+".1.md"))
	if err != nil {
		t.Fatalf("no man page: %v", err)
	}
	page := strings.Join(strings.Fields(string(b)), " ")
	if !strings.Contains(page, strings.Join(strings.Fields(cmd.Short), " ")) {
		t.Errorf("vmlite-%s.1.md lacks the summary %q", name, cmd.Short)
	}
	checkHelpIn(t, "vmlite-"+name+".1.md", page, cmd)
	for _, sub := range cmd.Commands() {
		if sub.Name() != "help" && !sub.Hidden {
			checkHelpIn(t, "vmlite-"+name+".1.md", page, sub)
		}
	}
}

// checkHelpIn checks that page (whitespace-normalised) holds cmd's long help
// and every flag of cmd with its usage text.
func checkHelpIn(t *testing.T, file, page string, cmd *cobra.Command) {
	t.Helper()
	name := cmd.Name()
	if long := strings.Join(strings.Fields(cmd.Long), " "); long != "" && !strings.Contains(page, long) {
		t.Errorf("%s does not contain the --help text of %s:\n%s", file, name, cmd.Long)
	}
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		if !strings.Contains(page, "**--"+f.Name+"**") {
			t.Errorf("%s does not document --%s of %s", file, f.Name, name)
		}
		usage := strings.Join(strings.Fields(strings.ReplaceAll(f.Usage, "`", "")), " ")
		if !strings.Contains(strings.ReplaceAll(page, "`", ""), usage) {
			t.Errorf("%s lacks the usage of --%s of %s: %q", file, f.Name, name, usage)
		}
	})
}
