// Package initsys runs inside the guest's namespaces as `vmlite __init`: it
// receives the launch plan from the supervisor, sets up the guest (mounts,
// /dev, console, hostname, capabilities) and execs the guest's init.
package initsys

// Role is the hidden argv[1] that selects this role.
const Role = "__init"
