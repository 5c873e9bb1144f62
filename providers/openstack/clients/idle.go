package clients

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// idleTimeout bounds how long a request goes without progress, not how
// long it takes: connecting, each piece of the request's body sent, the
// answer's headers and each piece of its body read restart the clock. An
// image of many gigabytes streams for minutes, where a bound on the whole
// request (http.Client.Timeout) would cut it; a service that stops
// answering is still given up after the timeout.
type idleTimeout struct {
	next http.RoundTripper
	d    time.Duration
}

// idleError is a request given up because nothing moved for its timeout.
// It is a net.Error whose Timeout is true.
type idleError struct{ After time.Duration }

func (e *idleError) Error() string   { return fmt.Sprintf("no progress for %v", e.After) }
func (e *idleError) Timeout() bool   { return true }
func (e *idleError) Temporary() bool { return true }

// watchdog cancels a request's context when it is not touched for d.
type watchdog struct {
	d      time.Duration
	timer  *time.Timer
	cancel context.CancelFunc
	fired  atomic.Bool
}

func (w *watchdog) touch() { w.timer.Reset(w.d) }

func (w *watchdog) stop() {
	w.timer.Stop()
	w.cancel()
}

// explain replaces the error of a request the watchdog cancelled.
func (w *watchdog) explain(err error) error {
	if err != nil && err != io.EOF && w.fired.Load() {
		return &idleError{After: w.d}
	}
	return err
}

func (t *idleTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	w := &watchdog{d: t.d, cancel: cancel}
	w.timer = time.AfterFunc(t.d, func() {
		w.fired.Store(true)
		cancel()
	})
	req = req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = &progressBody{ReadCloser: req.Body, w: w}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		w.stop()
		return nil, w.explain(err)
	}
	w.touch()
	resp.Body = &progressBody{ReadCloser: resp.Body, w: w, last: true}
	return resp, nil
}

// progressBody touches its watchdog at each read that moves; closing the
// answer's body (last) ends the request's watch.
type progressBody struct {
	io.ReadCloser
	w    *watchdog
	last bool
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.touch()
	}
	return n, b.w.explain(err)
}

func (b *progressBody) Close() error {
	err := b.ReadCloser.Close()
	if b.last {
		b.w.stop()
	}
	return err
}
