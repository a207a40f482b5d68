package cli

import (
	"fmt"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"vmlite/image"
	"vmlite/plan"
	"vmlite/templates"
)

func newTemplateImageCmd(app *App) *cobra.Command {
	var f templateFlags
	var initPath string
	cmd := &cobra.Command{
		Use:   "image IMAGE NAME [flags]",
		Short: "Print the domain XML of guest NAME whose root comes from IMAGE",
		Long: `Print a domain XML for guest NAME whose root filesystem is IMAGE from
vmlite's image store (vmlite image import, vmlite image pull), as
<filesystem type='template'><source name='IMAGE'/><target dir='/'/>: the
image's layers shared read-only, a copy-on-write layer of the guest's own
made on its first start. Nothing is built or copied.

An image with an init (/sbin/init: systemd, busybox, sysvinit) and no
command of its own, or whose command is an init, boots that init. An
application image runs its Entrypoint and Cmd as <init> and <initarg>s,
its Env as <initenv>s, its WorkingDir as <initdir> and its User as
<inituser>/<initgroup>. --init PATH boots PATH instead.`,
		Example: `  vmlite image import rootfs.tar.zst --name deb
  vmlite template image deb web1 > web1.xml
  vmlite start web1.xml`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			s := image.NewStore(app.Layout)
			im, err := s.Get(args[0])
			if err != nil {
				return err
			}
			cfg, err := s.Config(im)
			if err != nil {
				return err
			}
			f.name = args[1]
			c, err := f.domain("", "")
			if err != nil {
				return err
			}
			c.Image = im.Name
			if err := imageInit(&c, s.LowerDirs(im), cfg, initPath); err != nil {
				return fmt.Errorf("template image %s: %w", im.Name, err)
			}
			// A guest without a user namespace runs systemd only with CAP_SYS_ADMIN.
			c.SysAdmin = c.IDMap == nil && strings.HasSuffix(resolvedInit(s.LowerDirs(im), c.Init), "systemd")
			return f.emit(app, c)
		},
	}
	f.addXML(cmd, "256M")
	cmd.Flags().StringVar(&initPath, "init", "", "boot guest `PATH` as init instead of what the image says")
	return cmd
}

func resolvedInit(layers []string, p string) string {
	r, _ := image.Resolve(layers, p)
	return r
}

// isInit: a command that is an init system rather than an application.
func isInit(layers []string, p string) bool {
	r := resolvedInit(layers, p)
	b := path.Base(r)
	return b == "init" || b == "systemd" || strings.HasSuffix(path.Clean(p), "/sbin/init")
}

// imageInit fills c's init from the image config (see the command's help).
func imageInit(c *templates.DomainConfig, layers []string, cfg *image.Config, initPath string) error {
	if initPath != "" {
		c.Init = initPath
		return nil
	}
	cmd := append(append([]string(nil), cfg.Config.Entrypoint...), cfg.Config.Cmd...)
	if len(cmd) == 0 || isInit(layers, cmd[0]) && len(cmd) == 1 {
		init := "/sbin/init"
		if len(cmd) == 1 {
			init = cmd[0]
		}
		if _, ok := image.Resolve(layers, init); !ok {
			return userErrorf("the image has no %s and no Entrypoint or Cmd: give the program to run with --init PATH", init)
		}
		c.Init = init
		return nil
	}
	prog := cmd[0]
	if !path.IsAbs(prog) {
		found := ""
		for _, dir := range strings.Split(envValue(cfg.Config.Env, "PATH", plan.DefaultPath), ":") {
			if _, ok := image.Resolve(layers, path.Join(dir, prog)); ok && path.IsAbs(dir) {
				found = path.Join(dir, prog)
				break
			}
		}
		if found == "" {
			return userErrorf("the image's command %q is not on its PATH: give it with --init PATH", prog)
		}
		prog = found
	}
	c.Init, c.InitArgs, c.InitEnv = prog, cmd[1:], cfg.Config.Env
	c.InitDir = cfg.Config.WorkingDir
	if u := cfg.Config.User; u != "" {
		c.InitUser, c.InitGroup, _ = strings.Cut(u, ":")
	}
	return nil
}

func envValue(env []string, key, def string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, key+"="); ok {
			return v
		}
	}
	return def
}
