//go:build !race

package libvirtrpc

// raceEnabled: a race-detector build (see newRawIO).
const raceEnabled = false
