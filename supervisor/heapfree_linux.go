package supervisor

import (
	"runtime/debug"
	"sync"
	"time"
)

// heapQuietDelay is how long after the last start report a shared
// supervisor waits before it collects and gives back its free heap: the
// starts of one burst (hundreds launched at once) report well within it
// of each other.
const heapQuietDelay = time.Second

var heapFree struct {
	mu sync.Mutex
	t  *time.Timer
}

// freeOSMemoryWhenQuiet collects the heap and returns its free pages to
// the kernel once no start has reported for heapQuietDelay: one forced
// collection per burst, not one per start.
func freeOSMemoryWhenQuiet() {
	heapFree.mu.Lock()
	defer heapFree.mu.Unlock()
	if heapFree.t != nil {
		heapFree.t.Reset(heapQuietDelay)
		return
	}
	heapFree.t = time.AfterFunc(heapQuietDelay, debug.FreeOSMemory)
}
