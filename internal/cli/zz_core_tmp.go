package cli

import "errors"

// TEMPORARY until the console package lands.
func (a *App) attachConsole(name, dev string) error { return errors.New("console not available yet") }
