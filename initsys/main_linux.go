package initsys

import "os"

// Main is the entry point of the __init role. It never returns.
func Main() { os.Exit(255) }
