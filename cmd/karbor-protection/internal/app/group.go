package app

import (
	"context"
	"errors"
	"sync"
)

// group runs the service's actors, in the shape of oklog/run: each actor
// runs until its context is cancelled (or it fails); when the first one
// returns, the others are stopped one at a time, in the order they were
// added, each waited for before the next is stopped. That order is the
// service's shutdown sequence (see run).
type group struct {
	actors []actor
}

type actor struct {
	name string
	run  func(ctx context.Context) error
}

func (g *group) add(name string, run func(ctx context.Context) error) {
	g.actors = append(g.actors, actor{name: name, run: run})
}

// errStopped is what an actor returns when it ended because it was asked
// to, not because it failed.
var errStopped = errors.New("stopped")

// run starts every actor and returns once all have returned, with the
// errors they returned (errStopped and context.Canceled aside). stopping,
// if not nil, is told which actor's return started the shutdown.
func (g *group) run(ctx context.Context, stopping func(first string, err error)) error {
	type result struct {
		i   int
		err error
	}
	results := make(chan result, len(g.actors))
	cancels := make([]context.CancelFunc, len(g.actors))
	dones := make([]chan struct{}, len(g.actors))
	var wg sync.WaitGroup
	for i, a := range g.actors {
		actx, cancel := context.WithCancel(ctx)
		cancels[i] = cancel
		dones[i] = make(chan struct{})
		wg.Go(func() {
			defer close(dones[i])
			results <- result{i, a.run(actx)}
		})
	}
	first := <-results
	if stopping != nil {
		stopping(g.actors[first.i].name, first.err)
	}
	var errs []error
	if first.err != nil && !errors.Is(first.err, errStopped) {
		errs = append(errs, first.err)
	}
	for i := range g.actors {
		cancels[i]()
		<-dones[i]
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil && !errors.Is(r.err, errStopped) && !errors.Is(r.err, context.Canceled) {
			errs = append(errs, r.err)
		}
	}
	return errors.Join(errs...)
}
