package libvirtrpc

import "syscall"

const errTooManyFiles = syscall.EMFILE
