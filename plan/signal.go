package plan

import (
	"strconv"
	"strings"
)

// sigRTMin is SIGRTMIN as glibc programs (systemd) number it: the kernel's
// 32 plus the two that glibc keeps for itself.
const sigRTMin = 34

var signalNumbers = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15, "PWR": 30,
}

// SignalNumber reads "SIGUSR2", "USR2", "SIGRTMIN+4" or "12". "" and unknown
// names are not signals.
func SignalNumber(name string) (int, bool) {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "SIG")
	if n == "" {
		return 0, false
	}
	if v, err := strconv.Atoi(n); err == nil && v > 0 && v < 65 {
		return v, true
	}
	if v, ok := signalNumbers[n]; ok {
		return v, true
	}
	if rest, ok := strings.CutPrefix(n, "RTMIN"); ok {
		if rest == "" {
			return sigRTMin, true
		}
		off, err := strconv.Atoi(strings.TrimPrefix(rest, "+"))
		if err == nil && off >= 0 && sigRTMin+off < 65 {
			return sigRTMin + off, true
		}
	}
	return 0, false
}
