package launch

import (
	"os"
	"testing"

	"vmlite/internal/testutil"
)

// TestMain keeps the host-wide idmap record of the guests these tests
// prepare in a temporary directory.
func TestMain(m *testing.M) { os.Exit(testutil.RunWithTempIDMapDir(m)) }
