package cli

import "syscall"

// errConnRefused: a console socket file whose supervisor is gone.
var errConnRefused error = syscall.ECONNREFUSED
