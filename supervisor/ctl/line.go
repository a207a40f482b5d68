package ctl

import (
	"encoding/json"
	"strconv"
)

// requestLine is req as the protocol's line: its JSON and a newline. A
// request without a device is a fixed word and a number, written here
// directly: encoding/json's first Marshal in a process builds the type's
// encoder by reflection, a tenth of a millisecond of a stop client's
// life. The bytes are json.Marshal's (TestRequestLine, FuzzRequestLine).
func requestLine(req Request) []byte {
	if req.Device != nil || !plainWord(string(req.Op)) {
		b, _ := json.Marshal(req)
		return append(b, '\n')
	}
	b := make([]byte, 0, 48)
	b = append(b, `{"op":"`...)
	b = append(b, req.Op...)
	b = append(b, '"')
	if req.Timeout != 0 {
		b = append(b, `,"timeout":`...)
		b = strconv.AppendInt(b, int64(req.Timeout), 10)
	}
	return append(b, "}\n"...)
}

// plainWord: s needs no escaping in a JSON string (the operations are
// lower-case words with dashes).
func plainWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

// StopAnswer is what a stop's or destroy's client reads of the Response:
// decoding the whole guest State (Response.State) builds its decoder by
// reflection, which a one-shot client pays in full.
type StopAnswer struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Forced bool   `json:"forced,omitempty"`
	State  struct {
		SupervisorPID    int  `json:"supervisorPid,omitempty"`
		SharedSupervisor bool `json:"sharedSupervisor,omitempty"`
	} `json:"state"`
}
