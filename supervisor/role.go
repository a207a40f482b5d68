// Package supervisor is the per-guest process (`vmlite __supervise`).
package supervisor

// Role is the hidden argv[1] that selects this role.
const Role = "__supervise"
