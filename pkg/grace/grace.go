// Package grace stops background work gently: the work gets a grace period
// to finish, then it is told to stop (its context cancelled) and waited for.
// The RPC server's in-flight handlers and the manager's operations stop this
// way on SIGTERM.
package grace

import (
	"sync"
	"time"
)

// Wait waits until wg's counter is zero. Each time a grace period passes
// with work still running, it calls the next of stages (a stage typically
// logs and cancels the work's context) and goes on waiting; once every stage
// has run it waits without a limit. It reports whether the work finished
// before the first stage was needed.
func Wait(wg *sync.WaitGroup, grace time.Duration, stages ...func()) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	for i, stage := range stages {
		t := time.NewTimer(grace)
		select {
		case <-done:
			t.Stop()
			return i == 0
		case <-t.C:
		}
		stage()
	}
	<-done
	return len(stages) == 0
}
