package netdef

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"vmlite/state"
)

// runState is RUN/networks/NAME/state.json: what Start created, so that
// Destroy removes exactly that even if the definition changed meanwhile.
type runState struct {
	Name   string `json:"name"`
	Bridge string `json:"bridge"`
	// BridgeIndex tells our bridge from a later link of the same name.
	BridgeIndex int    `json:"bridgeIndex"`
	Forward     string `json:"forward,omitempty"`
	// Subnet is the IPv4 subnet the masquerade rule covers ("" = no rule).
	Subnet string `json:"subnet,omitempty"`
	// DHCP says whether a dnsmasq runs (its pid is in dnsmasq.pid).
	DHCP      bool      `json:"dhcp,omitempty"`
	StartedAt time.Time `json:"startedAt"`
}

func readRunState(l state.Layout, name string) (*runState, error) {
	b, err := os.ReadFile(runStateFile(l, name))
	if err != nil {
		return nil, err
	}
	var s runState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("network %s state: %w", name, err)
	}
	return &s, nil
}

func (s *runState) write(l state.Layout) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode network state: %w", err)
	}
	return state.WriteFileAtomic(runStateFile(l, s.Name), append(b, '\n'), 0o644)
}
