package enter

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"vmlite/internal/caps"
	"vmlite/internal/idfile"
)

// MainInside is the second stage, inside the guest with only the guest's
// privileges: it resolves --user in the guest's own files, takes the
// command's ids and execs the command. It returns only on failure (126:
// not executable, 127: not found, as shells do; 125: set-up, reported on
// the status pipe).
func MainInside() int {
	status := os.NewFile(StatusFD, "status")
	syscall.CloseOnExec(StatusFD)
	var c Config
	if err := json.Unmarshal([]byte(os.Getenv(envConfig)), &c); err != nil {
		return report(status, fmt.Errorf("bad helper configuration: %w", err))
	}
	if len(c.Argv) == 0 {
		return report(status, errors.New("no command"))
	}
	uid, gid, home, err := resolveUser(c.User)
	if err != nil {
		return report(status, err)
	}
	env := c.Env
	if home != "" {
		env = append(withoutVar(env, "HOME"), "HOME="+home)
	}
	if err := caps.SetIDs(uid, gid); err != nil {
		return report(status, err)
	}
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok && k == "PATH" {
			os.Setenv("PATH", v)
		}
	}
	path, err := exec.LookPath(c.Argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmlite exec: %s: not found in the guest\n", c.Argv[0])
		return 127
	}
	status.Close()
	err = unix.Exec(path, c.Argv, env)
	fmt.Fprintf(os.Stderr, "vmlite exec: %s: %v\n", path, err)
	if errors.Is(err, unix.ENOENT) {
		return 127
	}
	return 126
}

// resolveUser maps --user (name, uid, or user:group) to the guest's ids
// and home, from the guest's /etc/passwd and /etc/group as seen from
// inside ("" = root, keeping the configured HOME).
func resolveUser(spec string) (uid, gid int, home string, err error) {
	if spec == "" {
		return 0, 0, "", nil
	}
	user, group, hasGroup := strings.Cut(spec, ":")
	e, err := idfile.Lookup("/etc/passwd", user)
	if errors.Is(err, idfile.ErrNoEntry) {
		return 0, 0, "", userErrorf("user %q: not in the guest's /etc/passwd", user)
	}
	if err != nil {
		return 0, 0, "", userErrorf("user %q: %w", user, err)
	}
	uid, gid, home = e.ID, e.GID, e.Home
	if hasGroup {
		g, err := idfile.Lookup("/etc/group", group)
		if errors.Is(err, idfile.ErrNoEntry) {
			return 0, 0, "", userErrorf("group %q: not in the guest's /etc/group", group)
		}
		if err != nil {
			return 0, 0, "", userErrorf("group %q: %w", group, err)
		}
		gid = g.ID
	}
	return uid, gid, home, nil
}

func withoutVar(env []string, key string) []string {
	out := make([]string, 0, len(env))
	for _, e := range env {
		if !strings.HasPrefix(e, key+"=") {
			out = append(out, e)
		}
	}
	return out
}
