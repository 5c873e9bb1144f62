package grace

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestWait(t *testing.T) {
	const grace = time.Minute
	tests := []struct {
		name   string
		runs   time.Duration // how long the work runs if no stage stops it
		stopBy int           // the stage (1-based) that stops the work; 0: none
		stages int
		inTime bool
		called int
		took   time.Duration
	}{
		{name: "finishes within grace", runs: 10 * time.Second, stages: 2, inTime: true, took: 10 * time.Second},
		{name: "no stages: waits as long as it takes", runs: 5 * time.Minute, inTime: true, took: 5 * time.Minute},
		{name: "first stage stops it", runs: time.Hour, stopBy: 1, stages: 2, called: 1, took: grace},
		{name: "second stage stops it", runs: time.Hour, stopBy: 2, stages: 2, called: 2, took: 2 * grace},
		{name: "stages do not stop it: waits on", runs: 3 * time.Hour, stages: 2, called: 2, took: 3 * time.Hour},
		{name: "finishes between the stages", runs: 90 * time.Second, stages: 2, called: 1, took: 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					select {
					case <-time.After(tt.runs):
					case <-stop:
					}
				})
				called := 0
				stages := make([]func(), tt.stages)
				for i := range stages {
					stages[i] = func() {
						called++
						if called == tt.stopBy {
							close(stop)
						}
					}
				}
				start := time.Now()
				inTime := Wait(&wg, grace, stages...)
				assert.Equal(t, tt.inTime, inTime, "in time")
				assert.Equal(t, tt.called, called, "stages called")
				assert.Equal(t, tt.took, time.Since(start), "waited")
			})
		})
	}
}
