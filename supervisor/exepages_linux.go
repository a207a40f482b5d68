package supervisor

import (
	"log"
	"sync"
	"time"

	"vmlite/internal/exepages"
)

// exeDropDelay is how long after the last start the supervisor gives back
// the executable's pages it mapped: long enough that a burst of starts
// keeps them, short beside a guest's life: faulting them in again is not
// free, and a 2 s delay slowed 100 guests launched at once (bench/README.md).
const exeDropDelay = 30 * time.Second

var exeDrop struct {
	mu sync.Mutex
	t  *time.Timer
}

// dropExePagesSoon unmaps vmlite's code and read-only data from this
// process once no guest has started for exeDropDelay (package exepages
// says why that is worth it: most of what a start maps, the idle
// supervisor never runs).
func dropExePagesSoon() {
	exeDrop.mu.Lock()
	defer exeDrop.mu.Unlock()
	if exeDrop.t != nil {
		exeDrop.t.Reset(exeDropDelay)
		return
	}
	exeDrop.t = time.AfterFunc(exeDropDelay, func() {
		if err := exepages.Drop(); err != nil {
			// The process's stderr (supervisors.log): no guest's own.
			log.Printf("give back the executable's pages: %v", err)
		}
	})
}
