package libvirtrpc

import (
	"context"
	"regexp"

	libvirt "github.com/digitalocean/go-libvirt"
)

var consoleDevRE = regexp.MustCompile(`^console[0-9]+$`)

func init() {
	handlers[procDomainOpenConsole] = handler{write: true, fn: func(c *conn, h Header, body []byte) ([]byte, func(), error) {
		var a libvirt.DomainOpenConsoleArgs
		if err := decode(body, &a); err != nil {
			return nil, nil, errRPC("DOMAIN_OPEN_CONSOLE: %v", err)
		}
		if err := c.requireActive(a.Dom); err != nil {
			return nil, nil, err
		}
		dev := ""
		if len(a.DevName) > 0 {
			dev = a.DevName[0]
			// virt-manager sends the console's <alias name>, which is consoleN.
			if !consoleDevRE.MatchString(dev) {
				return nil, nil, errorf(libvirt.ErrInvalidArg, "invalid argument: cannot find console device '%s' (consoles are console0, console1, ...)", dev)
			}
		}
		// FORCE (1) needs nothing: the multiplexer takes any number of clients.
		rw, err := c.s.cfg.Backend.Console(context.Background(), a.Dom.Name, dev)
		if err != nil {
			return nil, nil, err
		}
		return nil, c.openStream(h, rw), nil
	}}
}
