//go:build race

package libvirtrpc

const raceEnabled = true
