package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"
)

// monitoringShutdown bounds how long the monitoring endpoint waits for a
// scrape in progress when the service stops.
const monitoringShutdown = 5 * time.Second

// serveMonitoring is the monitoring actor: the operators' HTTP endpoint
// ([monitoring] listen) on ln, serving the metrics at /metrics until its
// context ends. It is the last actor to stop, so that the metrics can be
// read while the service drains.
func serveMonitoring(ln net.Listener, metrics http.Handler, log *logrus.Entry) func(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
	}
	return func(ctx context.Context) error {
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		select {
		case err := <-served:
			return fmt.Errorf("[monitoring] listen %s: %w", ln.Addr(), err)
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), monitoringShutdown)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			log.WithError(err).Warn("Monitoring endpoint: scrapes still in progress were cut off")
			_ = srv.Close()
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("[monitoring] listen %s: %w", ln.Addr(), err)
		}
		return nil
	}
}
